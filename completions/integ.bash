# bash completion for integ                                 -*- shell-script -*-
# Generated from the command tree by scripts/gen_docs.py (`integ completion bash`).
# Install: copy to $XDG_DATA_HOME/bash-completion/completions/integ, or add
# `eval "$(integ completion bash)"` to ~/.bashrc.

_integ_completion() {
    local line="${COMP_LINE-}" point="${COMP_POINT-}"
    if [[ -z $line ]]; then
        line="${COMP_WORDS[*]:0:COMP_CWORD+1}"
        point=${#line}
    fi
    local prog="${1:-integ}"
    [[ $prog == */* && -x $prog ]] || prog=integ
    local IFS=$'\n'
    local -a reply
    reply=($(_INTEG_COMPLETE_LINE="${line:0:point}" \
        _INTEG_COMPLETE_BREAKS="${COMP_WORDBREAKS-}" "$prog" __complete bash 2>/dev/null))
    local directive="${reply[0]-}"
    COMPREPLY=("${reply[@]:1}")
    if [[ $directive == *nospace* ]]; then
        compopt -o nospace 2>/dev/null
    fi
    if [[ $directive != *files* ]]; then
        compopt +o default 2>/dev/null
    fi
    return 0
}

complete -o default -F _integ_completion integ
