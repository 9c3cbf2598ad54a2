// Input data for BPF_PROG_TEST_RUN: a valid Ethernet/IPv4/UDP packet (198.18.0.1 → 198.18.0.2, RFC 2544
// addresses) padded to a size, zeros, hex bytes or a file's bytes.

/** Internet checksum of a header. */
function checksum(buf: Buffer): number {
  let sum = 0
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i)
  if (buf.length % 2) sum += buf[buf.length - 1] << 8
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return ~sum & 0xffff
}

/** Ethernet + IPv4 + UDP (ports 9 → 9, discard), `size` bytes in all (at least 42). */
export function ipv4UdpPacket(size: number): Buffer {
  if (size < 42) throw new RangeError(`an Ethernet/IPv4/UDP packet needs at least 42 bytes, not ${size}`)
  const p = Buffer.alloc(size)
  Buffer.from('020000000002', 'hex').copy(p, 0) // dst MAC (locally administered)
  Buffer.from('020000000001', 'hex').copy(p, 6) // src MAC
  p.writeUInt16BE(0x0800, 12)
  const ip = p.subarray(14, 34)
  ip[0] = 0x45
  ip.writeUInt16BE(size - 14, 2)
  ip[8] = 64 // TTL
  ip[9] = 17 // UDP
  Buffer.from([198, 18, 0, 1]).copy(ip, 12)
  Buffer.from([198, 18, 0, 2]).copy(ip, 16)
  ip.writeUInt16BE(checksum(ip), 10)
  p.writeUInt16BE(9, 34)
  p.writeUInt16BE(9, 36)
  p.writeUInt16BE(size - 34, 38) // UDP length; checksum 0 = none (IPv4)
  return p
}
