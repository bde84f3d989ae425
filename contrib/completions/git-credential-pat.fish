# fish completion for git-credential-pat.
set -l cmds add list remove prune import doctor
complete -c git-credential-pat -f
complete -c git-credential-pat -n "not __fish_seen_subcommand_from $cmds" -a add -d 'store a token for a URL'
complete -c git-credential-pat -n "not __fish_seen_subcommand_from $cmds" -a list -d 'list stored credentials'
complete -c git-credential-pat -n "not __fish_seen_subcommand_from $cmds" -a remove -d 'remove the credentials for a URL'
complete -c git-credential-pat -n "not __fish_seen_subcommand_from $cmds" -a prune -d 'remove expired credentials'
complete -c git-credential-pat -n "not __fish_seen_subcommand_from $cmds" -a import -d 'import a git-credential-store file'
complete -c git-credential-pat -n "not __fish_seen_subcommand_from $cmds" -a doctor -d 'check the setup'
complete -c git-credential-pat -l backend -x -a 'auto keychain file memory' -d 'where tokens live'
complete -c git-credential-pat -l file -r -F -d 'the plain-text store'
complete -c git-credential-pat -l ttl -x -d 'expire credentials this long after storing'
complete -c git-credential-pat -l warn -x -d 'warn when a token expires within this'
complete -c git-credential-pat -s h -l help -d 'show help'
complete -c git-credential-pat -s V -l version -d 'show the version'
complete -c git-credential-pat -n '__fish_seen_subcommand_from add remove' -l username -x -d 'username'
complete -c git-credential-pat -n '__fish_seen_subcommand_from add' -l expires -x -d 'YYYY-MM-DD or RFC 3339'
complete -c git-credential-pat -n '__fish_seen_subcommand_from add' -l expires-in -x -d 'duration'
complete -c git-credential-pat -n '__fish_seen_subcommand_from list' -l json -d 'JSON output'
complete -c git-credential-pat -n '__fish_seen_subcommand_from import' -l remove-source -d 'delete the source files afterwards'
complete -c git-credential-pat -n '__fish_seen_subcommand_from import' -F
