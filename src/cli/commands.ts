/** Every `pittgoogle` command, in `--help` order. Add yours here. */

import {RegisterCommand} from './command';
import {registerDecodeCommand} from './decode-command';
import {registerExploreCommand} from './explore-command';
import {registerFetchCommand} from './fetch-command';
import {registerFilterCommand} from './filter-command';
import {registerPublishCommand} from './publish-command';
import {registerQueryCommand} from './query-command';
import {registerStartCommand} from './start-command';
import {registerSubscriptionsCommand} from './subscriptions-command';

export const COMMANDS: RegisterCommand[] = [
  registerStartCommand,
  registerFetchCommand,
  registerPublishCommand,
  registerQueryCommand,
  registerExploreCommand,
  registerDecodeCommand,
  registerFilterCommand,
  registerSubscriptionsCommand,
];
