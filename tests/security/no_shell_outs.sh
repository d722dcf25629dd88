#!/usr/bin/env bash
# "No shell-outs in the product" (SECURITY.md), checked two ways:
#  1. the product's sources call no process-spawning function;
#  2. the linked binary imports none (covers statically linked code too; shared libraries such
#     as cpprestsdk are not scanned).
#   no_shell_outs.sh SOURCE_DIR BINARY
set -euo pipefail
src=$1 bin=$2
spawn='system|popen|execl|execlp|execle|execv|execvp|execvpe|execve|fexecve|fork|vfork|posix_spawn|posix_spawnp|clone'
status=0
if hits=$(grep -rnE "(^|[^A-Za-z0-9_.>:])(${spawn})[[:space:]]*\(" "$src/operator" --include='*.cpp' --include='*.h' |
          grep -vE '^\S+:[0-9]+:\s*//'); then
  echo "process-spawning calls in operator/:"; echo "$hits"; status=1
fi
if imports=$(nm -D --undefined-only "$bin" | awk '{print $NF}' | sed 's/@.*//' | grep -xE "$spawn"); then
  echo "$bin imports process-spawning functions:"; echo "$imports"; status=1
fi
[ $status = 0 ] && echo "no shell-outs: sources and $(basename "$bin") imports clean"
exit $status
