// Errors that mean "the user gave us something wrong" (exit code 2), whatever module raised them.
import {KconfigError} from '../kernel/kconfig.js'
import {BtfError} from '../kernel/btf.js'
import {ProfileError} from '../doctor/profile.js'

export function isBadInput(error: unknown): boolean {
  return error instanceof KconfigError || error instanceof BtfError || error instanceof ProfileError
}
