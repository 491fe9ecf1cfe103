import sys
print('post hook fails', file=sys.stderr)
sys.exit(4)
