#!/bin/sh
echo 'pre hook says no' >&2
exit 3
