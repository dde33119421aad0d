#!/bin/sh
echo "this script fails on purpose with status 7"
exit 7
