#!/bin/sh
# fix-permissions UID FOLDER...: what a build step created in the environment's folders goes to
# UID and the group venv, group-writable, its folders setgid (what they will hold stays in the
# group), so the container user can change the environment whatever UID and GID it is given.
# Only files not already so are touched: a layer never copies up an earlier layer's files.
# (jupyter/docker-stacks keeps the same idea in its fix-permissions script:
# https://github.com/jupyter/docker-stacks/blob/main/images/docker-stacks-foundation/fix-permissions)
set -eu
uid="$1"
shift
# One walk (GNU find's ',' runs each test on every entry): the environment holds tens of
# thousands of files, and every walk of them costs a rebuild after a lock change.
find "$@" \( \( ! -user "$uid" -o ! -group venv \) -exec chown -h "$uid:venv" {} + \) \
    , \( ! -type l ! -perm -g+w -exec chmod g+w {} + \) \
    , \( -type d ! -perm -g+s -exec chmod g+s {} + \)
