# bash completion for git-credential-pat (also `git credential-pat` with git's completion).
# shellcheck shell=bash

__gcp_reply() {
	mapfile -t COMPREPLY < <(compgen "$@")
}

__git_credential_pat_words() {
	local cur=$1 prev=$2 cmd=$3
	local globals="--backend= --file= --ttl= --warn= --help --version"
	case "$prev" in
	--backend) __gcp_reply -W "auto keychain file memory" -- "$cur"; return ;;
	--file) __gcp_reply -f -- "$cur"; return ;;
	esac
	case "$cur" in
	--backend=*) __gcp_reply -W "auto keychain file memory" -- "${cur#--backend=}"; return ;;
	esac
	case "$cmd" in
	"") __gcp_reply -W "add list remove prune import doctor verify rotate $globals" -- "$cur" ;;
	add) __gcp_reply -W "--username= --expires= --expires-in= --no-verify $globals" -- "$cur" ;;
	list) __gcp_reply -W "--json $globals" -- "$cur" ;;
	remove) __gcp_reply -W "--username= $globals" -- "$cur" ;;
	import) __gcp_reply -f -W "--remove-source $globals" -- "$cur" ;;
	verify) __gcp_reply -W "--username= --json --remove-rejected $globals" -- "$cur" ;;
	rotate) __gcp_reply -W "--username= --expires= $globals" -- "$cur" ;;
	*) __gcp_reply -W "$globals" -- "$cur" ;;
	esac
	[[ ${COMPREPLY[0]-} == *= ]] && compopt -o nospace 2>/dev/null
}

__git_credential_pat_command() {
	local w
	for w in "$@"; do
		case "$w" in add | list | remove | prune | import | doctor | verify | rotate) printf '%s' "$w"; return ;; esac
	done
}

_git_credential_pat_main() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	__git_credential_pat_words "$cur" "$prev" "$(__git_credential_pat_command "${COMP_WORDS[@]:1:COMP_CWORD-1}")"
}

# `git credential-pat ...`: git's own completion calls _git_<subcommand>.
_git_credential_pat() {
	_git_credential_pat_main
}

complete -F _git_credential_pat_main git-credential-pat
