# bash completion for uffdlab. Flags come from `uffdlab CMD --help` and
# names from `uffdlab list`, so this file never drifts from the binary.
_uffdlab()
{
	local cur prev cmd
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd=${COMP_WORDS[1]}
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "explore replay shrink merge viz real list run help version --help --version" -- "$cur"))
		return
	fi
	case $prev in
	--handler)
		COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" list 2>/dev/null | sed -n '/^handlers/,/^invariants/{s/^  \([a-z0-9-]*\) .*/\1/p}')" -- "$cur"))
		return ;;
	--variant)
		COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" list 2>/dev/null | sed -n '/^variants/,/^scenarios/{s/^  \([a-z0-9-]*\) .*/\1/p}')" -- "$cur"))
		return ;;
	--strategy)
		COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" help explore 2>/dev/null | sed -n '/^STRATEGY/,/^exit/{s/^  \([a-z]*\) .*/\1/p}')" -- "$cur"))
		return ;;
	--out)
		COMPREPLY=($(compgen -d -- "$cur"))
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" "$cmd" --help 2>/dev/null | grep -o -- '--[a-z-]*' | sort -u)" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -F _uffdlab uffdlab
