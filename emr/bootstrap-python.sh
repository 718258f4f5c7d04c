#!/bin/bash
# EMR bootstrap action for transform_movielens (cluster.create's emr.bootstrapActions):
# installs the Python packages named as arguments on every node, for pyspark statements.
# Upload this folder to the s3:// prefix you pass as the DAG's emr_scripts param.
set -euo pipefail
if [ "$#" -gt 0 ]; then
  sudo python3 -m pip install --quiet "$@"
fi
