/** Every `pittgoogle` command, in `--help` order. Add yours here. */

import {RegisterCommand} from './command';
import {registerDecodeCommand} from './decode-command';
import {registerFilterCommand} from './filter-command';
import {registerSubscriptionsCommand} from './subscriptions-command';

export const COMMANDS: RegisterCommand[] = [
  registerDecodeCommand,
  registerFilterCommand,
  registerSubscriptionsCommand,
];
