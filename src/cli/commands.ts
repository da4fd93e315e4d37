/** Every `pittgoogle` command, in `--help` order. Add yours here. */

import {RegisterCommand} from './command';
import {registerDecodeCommand} from './decode-command';

export const COMMANDS: RegisterCommand[] = [registerDecodeCommand];
