// What goes wrong around a guest run: bad kernel input, QEMU missing, a boot that fails or hangs.
// All exit 2 (bad input or a guest that could not run the command) and carry the console's last lines.
export class VmError extends Error {
  readonly exitCode: number = 2
  constructor(message: string, readonly consoleTail: string[] = []) {
    super(message)
  }
}
