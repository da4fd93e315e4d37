#!/usr/bin/env bash
# Removes what deploy/deploy.sh created. Refuses to run unless the project id
# is repeated: deploy/teardown.sh --project=MY_PROJECT --confirm-project=MY_PROJECT
# Add --delete-firestore to delete the database and every stored alert too;
# --dry-run prints the commands without running any.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x node_modules/.bin/node ]]; then
  echo "teardown: run 'npm ci' in $(pwd) first" >&2
  exit 2
fi
npm run --silent build >&2
exec node_modules/.bin/node build/src/deploy/main.js teardown "$@"
