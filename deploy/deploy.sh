#!/usr/bin/env bash
# Deploys pittgoogle-functions into your Google Cloud project with gcloud.
#   deploy/deploy.sh --project=MY_PROJECT [--region=us-central1] [--dry-run] [--help]
# The work is done by build/src/deploy/main.js (validated inputs, no shell
# between it and gcloud); this wrapper only builds it and runs it with the
# project's pinned Node.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x node_modules/.bin/node ]]; then
  echo "deploy: run 'npm ci' in $(pwd) first" >&2
  exit 2
fi
npm run --silent build >&2
exec node_modules/.bin/node build/src/deploy/main.js deploy "$@"
