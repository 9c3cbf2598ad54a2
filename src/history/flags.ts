// Flags every history command takes.
import {Flags} from '@oclif/core'
import {DEFAULT_BRANCH} from './layout.js'

export const historyFlags = {
  branch: Flags.string({default: DEFAULT_BRANCH, description: 'the results branch (created as an orphan branch when missing)'}),
  repo: Flags.string({default: '.', description: 'the git repository (a work tree or a bare repository)'}),
}
