#!/bin/sh
# Runs a command and prints its output followed by "exit=N", so that a CTest regular
# expression can check the message and the exit status together.
"$@" 2>&1
echo "exit=$?"
