#!/bin/sh
set -e
echo "pre sh {{ cookiecutter.name }}" > pre.txt
