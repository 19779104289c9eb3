# fish completion for integ.
# Generated from the command tree by scripts/gen_docs.py (`integ completion fish`).
# Install: copy to ~/.config/fish/completions/integ.fish, or run
# `integ completion fish | source`.

function __integ_complete
    set -l prog (commandline -opc)[1]
    string match -q -- '*/*' $prog; and test -x "$prog"; or set prog integ
    set -lx _INTEG_COMPLETE_LINE (commandline -cp | string collect)
    set -l reply ($prog __complete fish 2>/dev/null)
    set -l directive $reply[1]
    set -e reply[1]
    if test (count $reply) -gt 0
        printf '%s\n' $reply
    else if string match -q -- '*files*' "$directive"
        __fish_complete_path (commandline -ct)
    end
end

complete -c integ -f -a '(__integ_complete)'
