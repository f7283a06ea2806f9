#!/bin/sh
# The hostile host: installed by lab.sh as `docker`, `git` and `curl` first on the PATH
# of the lab's hostile login (sshd-hostile). The mode in $LAB_DIR/hostile-mode picks what
# the answers to the commands whose output Shipshape reads look like; every other command
# goes to the real tool, so the host still looks like a host up to that point.
#   invalid-utf8  bytes that are not UTF-8
#   escapes       terminal control sequences (title, clear screen, clipboard, colours)
#   long-line     one 10 MB line
#   gigabyte      1 GB of output
#   almost-json   JSON that is almost right
#   endless       output that never ends
mode=$(cat "$(dirname "$0")/../hostile-mode" 2>/dev/null)
tool=$(basename "$0")
real=$(PATH=/usr/local/bin:/usr/bin:/bin command -v "$tool")

answer() {
  case "$mode" in
  invalid-utf8) printf 'backend \377\376\303\050 \342\202\n\300\200 line two \355\240\200\n' ;;
  escapes) printf 'hello \033]0;owned\007\033[2J\033[H\033[31mred\033[0m \033]52;c;b3duZWQ=\007\033P+q\033\\ \233 done\n' ;;
  long-line) head -c 10000000 /dev/zero | tr '\0' 'a'; echo ;;
  gigabyte) yes 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' | head -c 1000000000 ;;
  almost-json) printf '{"Name":"atp-backend-aws-1","Service":"backend-aws","State":"running","Publishers":[{"URL":"0.0.0.0","PublishedPort":"8002"\n[{"Service": 5, "State": null}]\n' ;;
  endless) yes 'endless' ;;
  *) return 1 ;;
  esac
}

case "$tool $*" in
"docker "*" logs "* | "docker "*" ps "* | "docker "*" ps" | "git log "* | "git "*" log "* | "curl "*)
  answer && exit 0 ;;
esac
exec "$real" "$@"
