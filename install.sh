#!/bin/sh
# Installs git-credential-pat and configures git to consult it first (DESIGN.md §7).
# Run ./install.sh --help for the options. POSIX sh; no sudo.
set -eu

me=install.sh
# A transient credential.helper value that keeps git's [credential] section in place while
# install.sh rewrites the helper list (git drops a section whose last key is removed).
placeholder=git-credential-pat-install-placeholder
tab=$(printf '\t')

usage() {
	cat <<'EOF'
Usage: ./install.sh [--prefix=DIR] [--no-configure] [--uninstall]

Installs git-credential-pat into DIR/bin (default ~/.local/bin), with its man page and
shell completions under DIR/share when the source tree has them, and configures git
globally (git config --global) so that pat is the first credential helper consulted.
Helpers that applied before are kept, after pat. Running it again changes nothing.

  --prefix=DIR, --prefix DIR  install under DIR (default: ~/.local)
  --no-configure              install the files only; leave the git configuration alone
  --uninstall                 remove the installed files and restore the credential.helper
                              configuration recorded at install (stored tokens are kept)
  -h, --help                  show this help

The binary: $GIT_CREDENTIAL_PAT_BIN when set; otherwise target/release/git-credential-pat
(or $CARGO_TARGET_DIR/release/...) when it is newer than every source file; otherwise
`cargo build --release --locked`.

What install.sh changed is recorded in
${XDG_DATA_HOME:-~/.local/share}/git-credential-pat/install-state.
EOF
}

say() { printf '%s\n' "$*"; }
warn() { printf '%s: warning: %s\n' "$me" "$*" >&2; }
die() {
	printf '%s: %s\n' "$me" "$*" >&2
	exit 1
}
usage_error() {
	printf '%s: %s (see ./install.sh --help)\n' "$me" "$*" >&2
	exit 2
}

# Prints $1 as a single shell word, quoted only when it needs to be.
shell_quote() {
	case $1 in
	'') printf "''" ;;
	*[!A-Za-z0-9_./:@%+,=-]*) printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
	*) printf '%s' "$1" ;;
	esac
}

# Prints a credential.helper value that runs the absolute path $1. Git treats a value as a
# path only when its first character is '/', so any quoting starts after that slash.
helper_for_path() {
	case $1 in
	*[!A-Za-z0-9_./:@%+,=-]*) printf '/%s' "$(shell_quote "${1#/}")" ;;
	*) printf '%s' "$1" ;;
	esac
}

# Succeeds when the credential.helper value $1 runs git-credential-pat (as `pat ...` or by an
# absolute path); sets found_args to the arguments that follow it.
names_pat() {
	case $1 in
	pat) found_args= ;;
	"pat "* | "pat$tab"*) found_args=${1#pat?} ;;
	"/'"*"/git-credential-pat'") found_args= ;;
	"/'"*"/git-credential-pat' "* | "/'"*"/git-credential-pat'$tab"*) found_args=${1#*"/git-credential-pat'"?} ;;
	/*)
		first=${1%%[ "$tab"]*}
		case $first in
		*"'"* | *'"'* | *\\*) return 1 ;;
		*/git-credential-pat) found_args=${1#"$first"} ;;
		*) return 1 ;;
		esac
		;;
	*) return 1 ;;
	esac
	found_args=${found_args#"${found_args%%[! "$tab"]*}"}
	return 0
}

# Copies the helper values in file $1 to file $2, leaving out those that run pat.
drop_pat() {
	: >"$2"
	while IFS= read -r v; do
		names_pat "$v" || printf '%s\n' "$v" >>"$2"
	done <"$1"
}

# Prints the physical path of directory $1, or nothing when it does not exist.
physical_dir() {
	(cd "$1" 2>/dev/null && pwd -P) || true
}

# Prints the physical path of file $1.
physical_file() {
	printf '%s/%s' "$(physical_dir "$(dirname "$1")")" "${1##*/}"
}

# Creates directory $1 and its missing parents, recording each one created in $tmp/dirs.
make_dir() {
	[ ! -d "$1" ] || return 0
	make_dir "$(dirname "$1")"
	mkdir "$1" 2>/dev/null || die "cannot create directory $1 (permission denied?)"
	printf '%s\n' "$1" >>"$tmp/dirs"
}

# Installs file $1 as $2 with mode $3 (atomically; untouched when already identical).
install_file() {
	make_dir "$(dirname "$2")"
	printf '%s\n' "$2" >>"$tmp/files"
	if [ -f "$2" ] && [ ! -L "$2" ] && cmp -s "$1" "$2"; then
		chmod "$3" "$2"
		say "  unchanged  $2"
		return 0
	fi
	if ! { cp "$1" "$2.tmp.$$" && chmod "$3" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"; }; then
		rm -f "$2.tmp.$$"
		die "cannot install $2"
	fi
	say "  installed  $2"
}

# Prints the first of the files "$src/$1", "$src/$2", ... that exists.
shipped() {
	for f in "$@"; do
		if [ -f "$src/$f" ]; then
			printf '%s' "$src/$f"
			return 0
		fi
	done
}

# Sets bin_src to the binary to install: $GIT_CREDENTIAL_PAT_BIN, a release binary newer
# than the sources, or a fresh `cargo build --release --locked`.
pick_binary() {
	if [ -n "${GIT_CREDENTIAL_PAT_BIN:-}" ]; then
		bin_src=$GIT_CREDENTIAL_PAT_BIN
		if [ ! -f "$bin_src" ] || [ ! -x "$bin_src" ]; then
			die "GIT_CREDENTIAL_PAT_BIN=$bin_src is not an executable file"
		fi
		say "Using the prebuilt binary $bin_src (GIT_CREDENTIAL_PAT_BIN)."
		return 0
	fi
	[ -f "$src/Cargo.toml" ] ||
		die "no Cargo.toml in $src: run install.sh from the source tree, or set GIT_CREDENTIAL_PAT_BIN to a built binary"
	target=${CARGO_TARGET_DIR:-$src/target}
	case $target in /*) ;; *) target=$PWD/$target ;; esac
	bin_src=$target/release/git-credential-pat
	set --
	for f in src Cargo.toml Cargo.lock build.rs; do
		if [ -e "$src/$f" ]; then set -- "$@" "$src/$f"; fi
	done
	if [ -f "$bin_src" ] && [ -x "$bin_src" ]; then
		newer=$(find "$@" -newer "$bin_src" -print 2>/dev/null | head -n 1)
		if [ -z "$newer" ]; then
			say "Using the release binary already built: $bin_src (newer than every source file)."
			return 0
		fi
		say "The release binary $bin_src is older than $newer: rebuilding."
	fi
	command -v cargo >/dev/null 2>&1 ||
		die "cargo not found: install Rust (https://rustup.rs), or set GIT_CREDENTIAL_PAT_BIN to a built git-credential-pat"
	say "Building: cargo build --release --locked (in $src)"
	(cd "$src" && cargo build --release --locked) >&2 ||
		die "cargo build --release --locked failed (see above)"
	[ -x "$bin_src" ] ||
		die "cargo built, but $bin_src is missing (is build.target-dir set?): set CARGO_TARGET_DIR or GIT_CREDENTIAL_PAT_BIN"
}

# Prints the global config file `git config --global` writes to.
global_config_file() {
	if [ -n "${GIT_CONFIG_GLOBAL+set}" ]; then
		printf '%s' "$GIT_CONFIG_GLOBAL"
		return 0
	fi
	xdg=${XDG_CONFIG_HOME:-$HOME/.config}/git/config
	if [ ! -e "$HOME/.gitconfig" ] && [ -e "$xdg" ]; then
		printf '%s' "$xdg"
	else
		printf '%s' "$HOME/.gitconfig"
	fi
}

# Writes to $1 the global credential.helper values (the config file itself, no includes),
# one per line.
read_global_helpers() {
	git config --global --get-all credential.helper >"$1" || {
		rc=$?
		[ "$rc" -eq 1 ] || die "cannot read the global git config $config_file (git config exited with $rc)"
	}
}

# Writes to $tmp/applied the credential.helper values that apply outside any repository
# (system and global config, includes followed, empty values resetting the list), one
# "scope<TAB>value" per line. Refuses values containing a newline.
read_applied_helpers() {
	git config -z --show-scope --get-all credential.helper >"$tmp/all-z" || {
		rc=$?
		[ "$rc" -eq 1 ] || die "cannot read the git configuration (git config exited with $rc; git 2.26 or newer is needed)"
	}
	# With -z, entries are "scope NUL value NUL": turn NULs into line ends and the newlines
	# inside values into \001, so that a value with a newline can be spotted.
	tr '\012\000' '\001\012' <"$tmp/all-z" | awk '
		NR % 2 == 1 { scope = $0; next }
		scope != "system" && scope != "global" { next }
		index($0, "\001") { bad = 1; next }
		$0 == "" { n = 0; next }
		{ s[++n] = scope; v[n] = $0 }
		END {
			if (bad) exit 3
			for (i = 1; i <= n; i++) printf "%s\t%s\n", s[i], v[i]
		}' >"$tmp/applied" ||
		die "a credential.helper value contains a newline, which install.sh cannot record: fix it with git config --global --edit (or in the system config)"
}

# Rewrites every credential.helper value of the config named by $1 (--global or
# --file=PATH) to the values listed in file $2, one per line, keeping the [credential]
# section where it is. A section left without keys disappears, as git does on --unset.
set_helpers() {
	git config "$1" --add credential.helper "$placeholder" &&
		{ git config "$1" --unset-all credential.helper "!^$placeholder\$" || [ $? -eq 5 ]; } || return 1
	while IFS= read -r v; do
		git config "$1" --add credential.helper "$v" || return 1
	done <"$2"
	git config "$1" --unset credential.helper "^$placeholder\$"
}

# Rewrites the global credential.helper list to the values in file $1, or dies.
set_global_helpers() {
	set_helpers --global "$1" ||
		die "git config failed while rewriting credential.helper in $config_file: check it with git config --global --edit"
}

# Prints the values in file $1 as credential.helper lines.
print_helpers() {
	if [ ! -s "$1" ]; then
		say "    (none)"
		return 0
	fi
	while IFS= read -r v; do
		say "    credential.helper = $v"
	done <"$1"
}

# Explains how the helpers that applied before (file $tmp/kept, "scope<TAB>value") and the
# URL-specific ones interact with pat.
report_helpers() {
	say "Git consults, in order (credential.helper in $config_file):"
	say "    credential.helper =             (empty: resets the helpers inherited from the system config)"
	say "    credential.helper = $pat_entry   (git-credential-pat, consulted first)"
	while IFS= read -r line; do
		say "    credential.helper = ${line#*"$tab"}   (from the ${line%%"$tab"*} config)"
	done <"$tmp/kept"
	if [ -s "$tmp/kept" ]; then
		say "No helper comes before pat. The ones that applied before come after it, so nothing is lost:"
	else
		say "No other helper applied before, so pat is the only one."
	fi
	while IFS= read -r line; do
		v=${line#*"$tab"}
		case $v in
		store | "store "* | "store$tab"*)
			warn "'$v' comes after pat: git hands it every token it uses, so it keeps a plain-text copy of each in ~/.git-credentials (or the file given with --file)."
			warn "  Move those tokens into pat with: git credential-pat import"
			warn "  then drop the helper with: git config --global --fixed-value --unset-all credential.helper $(shell_quote "$v")"
			;;
		cache | "cache "* | "cache$tab"*)
			say "  '$v': harmless but redundant: pat answers first, and cache only keeps a copy in memory for a while."
			;;
		*)
			say "  '$v': consulted only when pat has no token for the URL; git also hands it every token it stores."
			;;
		esac
	done <"$tmp/kept"
	git config --show-scope --get-regexp '^credential\..+\.helper$' >"$tmp/url-helpers" 2>/dev/null || true
	grep -E "^(system|global)$tab" "$tmp/url-helpers" >"$tmp/url-helpers-kept" || true
	if [ -s "$tmp/url-helpers-kept" ]; then
		say "URL-specific helpers were left as they are; for matching URLs git consults them after pat:"
		while IFS= read -r line; do
			key=${line#*"$tab"}
			key=${key%% *}
			v=${line#*"$tab$key"}
			v=${v# }
			say "    $key = $v"
			if [ -z "$v" ]; then
				warn "$key is empty: it resets the helper list for those URLs, so git does not consult pat there."
			fi
		done <"$tmp/url-helpers-kept"
	fi
}

# Reads the state file into st_* variables and the list files $tmp/st-files, st-dirs,
# st-before, st-after. Fails when there is no state file.
read_state() {
	: >"$tmp/st-files"
	: >"$tmp/st-dirs"
	: >"$tmp/st-before"
	: >"$tmp/st-after"
	st_version='' st_prefix='' st_configured=no st_config_file='' st_config_existed=yes st_had_section=yes st_had_helper=yes
	[ -f "$state" ] || return 1
	while IFS= read -r line || [ -n "$line" ]; do
		v=${line#*=}
		case $line in
		'#'* | '') ;;
		version=*) st_version=$v ;;
		prefix=*) st_prefix=$v ;;
		file=*) printf '%s\n' "$v" >>"$tmp/st-files" ;;
		dir=*) printf '%s\n' "$v" >>"$tmp/st-dirs" ;;
		configured=*) st_configured=$v ;;
		config_file=*) st_config_file=$v ;;
		config_existed=*) st_config_existed=$v ;;
		had_section=*) st_had_section=$v ;;
		had_helper=*) st_had_helper=$v ;;
		before=*) printf '%s\n' "$v" >>"$tmp/st-before" ;;
		after=*) printf '%s\n' "$v" >>"$tmp/st-after" ;;
		*)
			[ "$st_version" = 1 ] || break
			die "$state: unreadable line '${line%%=*}': fix it by hand, or remove it to uninstall without it"
			;;
		esac
	done <"$state"
	[ "$st_version" = 1 ] || die "$state: unknown format version '$st_version' (written by a newer install.sh?)"
}

# Writes the state file from st_* and the list files (atomically, mode 0600).
write_state() {
	{
		say "# git-credential-pat install state: written by install.sh, read by install.sh --uninstall."
		say "# One key=value per line, the value running to the end of the line; list keys repeat, in order."
		say "version=1"
		say "prefix=$st_prefix"
		awk '!seen[$0]++ { print "file=" $0 }' "$tmp/st-files"
		awk '!seen[$0]++ { print "dir=" $0 }' "$tmp/st-dirs"
		say "configured=$st_configured"
		if [ "$st_configured" = yes ]; then
			say "config_file=$st_config_file"
			say "config_existed=$st_config_existed"
			say "had_section=$st_had_section"
			say "had_helper=$st_had_helper"
			sed 's/^/before=/' "$tmp/st-before"
			sed 's/^/after=/' "$tmp/st-after"
		fi
	} >"$tmp/state"
	if [ -f "$state" ] && cmp -s "$tmp/state" "$state"; then
		return 0
	fi
	if ! { (umask 077 && cp "$tmp/state" "$state.tmp") && mv -f "$state.tmp" "$state"; }; then
		rm -f "$state.tmp"
		die "cannot write $state"
	fi
}

# Whether $bin_dir is on PATH (sets on_path to yes or no).
check_path() {
	on_path=no
	phys_bin=$(physical_dir "$bin_dir")
	set -f
	old_ifs=$IFS
	IFS=:
	for d in $PATH; do
		case $d in /*) ;; *) continue ;; esac
		if [ -n "$phys_bin" ] && [ "$(physical_dir "$d")" = "$phys_bin" ]; then
			on_path=yes
			break
		fi
	done
	IFS=$old_ifs
	set +f
}

# The credential.helper value that runs the installed binary: `pat` when git finds this
# binary by that name, else its absolute path.
choose_pat_command() {
	pat_cmd=$(helper_for_path "$dest")
	[ "$on_path" = yes ] || return 0
	mine=$(physical_file "$dest")
	exec_path=$(git --exec-path 2>/dev/null || true)
	if [ -n "$exec_path" ] && [ -e "$exec_path/git-credential-pat" ] && [ "$(physical_file "$exec_path/git-credential-pat")" != "$mine" ]; then
		warn "git finds $exec_path/git-credential-pat before $dest: configuring git with the absolute path."
		return 0
	fi
	found=$(command -v git-credential-pat 2>/dev/null || true)
	if [ -n "$found" ] && [ "$(physical_file "$found")" != "$mine" ]; then
		warn "$found comes before $dest on PATH: configuring git with the absolute path."
		return 0
	fi
	pat_cmd=pat
}

configure_git() {
	command -v git >/dev/null 2>&1 || die "git not found on PATH: install git, or use --no-configure"
	config_file=$(global_config_file)
	read_applied_helpers
	read_global_helpers "$tmp/global"
	choose_pat_command

	# pat first (keeping the options of an entry that named pat already), then every other
	# helper that applied, in order.
	pat_args='' seen_pat=no
	: >"$tmp/kept"
	while IFS= read -r line; do
		if names_pat "${line#*"$tab"}"; then
			if [ "$seen_pat" = no ]; then pat_args=$found_args seen_pat=yes; fi
		else
			printf '%s\n' "$line" >>"$tmp/kept"
		fi
	done <"$tmp/applied"
	pat_entry=$pat_cmd${pat_args:+ $pat_args}
	{
		say ""
		say "$pat_entry"
		cut -f 2- "$tmp/kept"
	} >"$tmp/desired"

	if cmp -s "$tmp/desired" "$tmp/global"; then
		say "Git is already configured: nothing to change in $config_file."
		report_helpers
		return 0
	fi

	if [ "$st_configured" != yes ]; then
		# First configuration: remember what to restore on --uninstall.
		st_configured=yes
		st_config_file=$config_file
		st_config_existed=no st_had_section=no st_had_helper=no
		if [ -e "$config_file" ]; then
			st_config_existed=yes
			if grep -Eiq '^[[:space:]]*\[credential\]' "$config_file"; then st_had_section=yes; fi
			# Will --uninstall give back this very file? Try it on a copy.
			cp "$config_file" "$tmp/sim"
			if ! { set_helpers "--file=$tmp/sim" "$tmp/desired" && set_helpers "--file=$tmp/sim" "$tmp/global"; } 2>/dev/null ||
				! cmp -s "$config_file" "$tmp/sim"; then
				say "Note: your credential.helper lines in $config_file are not in git's own layout; --uninstall will restore the same helpers, in git's layout."
			fi
		fi
		if [ -s "$tmp/global" ]; then st_had_helper=yes; fi
		cp "$tmp/global" "$tmp/st-before"
	fi
	cp "$tmp/desired" "$tmp/st-after"
	write_state
	set_global_helpers "$tmp/desired"
	say "Configured git: $config_file"
	report_helpers
}

do_install() {
	pick_binary
	bin_dir=$prefix/bin
	dest=$bin_dir/git-credential-pat
	if read_state; then
		if [ -n "$st_prefix" ] && [ "$st_prefix" != "$prefix" ]; then
			say "Note: an earlier install used --prefix=$st_prefix; --uninstall will remove both."
		fi
	fi
	st_prefix=$prefix

	say "Installing into $prefix:"
	: >"$tmp/files"
	: >"$tmp/dirs"
	install_file "$bin_src" "$dest" 755
	man=$(shipped doc/git-credential-pat.1)
	bash_completion=$(shipped contrib/completions/git-credential-pat.bash contrib/completions/git-credential-pat)
	zsh_completion=$(shipped contrib/completions/_git-credential-pat contrib/completions/git-credential-pat.zsh)
	fish_completion=$(shipped contrib/completions/git-credential-pat.fish)
	[ -z "$man" ] || install_file "$man" "$prefix/share/man/man1/git-credential-pat.1" 644
	[ -z "$bash_completion" ] || install_file "$bash_completion" "$prefix/share/bash-completion/completions/git-credential-pat" 644
	[ -z "$zsh_completion" ] || install_file "$zsh_completion" "$prefix/share/zsh/site-functions/_git-credential-pat" 644
	[ -z "$fish_completion" ] || install_file "$fish_completion" "$prefix/share/fish/vendor_completions.d/git-credential-pat.fish" 644

	(umask 077 && make_dir "$data_dir")
	cat "$tmp/files" >>"$tmp/st-files"
	cat "$tmp/dirs" >>"$tmp/st-dirs"
	write_state

	check_path
	if [ "$on_path" = no ]; then
		warn "$bin_dir is not on PATH, so \`git credential-pat\` and \`git-credential-pat\` are not found by name."
		warn "  Add it in your shell profile: export PATH=\"$bin_dir:\$PATH\""
	fi

	if [ "$configure" = yes ]; then
		configure_git
		if [ "$pat_cmd" = pat ]; then
			say "Check the setup with: git credential-pat doctor"
		else
			say "Check the setup with: $(shell_quote "$dest") doctor"
		fi
	else
		say "Git configuration left alone (--no-configure)."
	fi
	say "Install state recorded in $state"
}

# Puts back the global credential.helper list recorded at install.
restore_config() {
	config_file=$st_config_file
	read_global_helpers "$tmp/current"
	if cmp -s "$tmp/current" "$tmp/st-after"; then
		if ! cmp -s "$tmp/current" "$tmp/st-before"; then set_global_helpers "$tmp/st-before"; fi
		say "Restored credential.helper in $config_file to what it was before install:"
		print_helpers "$tmp/st-before"
	else
		# Changed since install: take out what install added (the empty value, pat, copies
		# of the system helpers), keep everything else in its order.
		awk -v after="$tmp/st-after" -v before="$tmp/st-before" '
			BEGIN {
				while ((getline v < after) > 0) added[v]++
				while ((getline v < before) > 0) if (added[v] > 0) added[v]--
			}
			added[$0] > 0 { added[$0]--; next }
			{ print }' "$tmp/current" >"$tmp/unpat"
		drop_pat "$tmp/unpat" "$tmp/restored"
		if ! cmp -s "$tmp/current" "$tmp/restored"; then set_global_helpers "$tmp/restored"; fi
		warn "credential.helper in $config_file changed after install, so it could not be restored exactly."
		warn "  Removed what install added; it is now:"
		print_helpers "$tmp/restored" >&2
		warn "  Before install it was:"
		print_helpers "$tmp/st-before" >&2
	fi
	if [ "$st_had_section" = no ] && ! git config --global --get-regexp '^credential\.[^.]*$' >/dev/null 2>&1; then
		git config --global --remove-section credential 2>/dev/null || true
	fi
	if [ "$st_config_existed" = no ] && [ -f "$config_file" ] && [ ! -s "$config_file" ]; then
		rm -f "$config_file"
	fi
}

do_uninstall() {
	if read_state; then
		if [ "$prefix_given" = yes ] && [ "$st_prefix" != "$prefix" ]; then
			say "Note: uninstalling what was installed under $st_prefix (recorded in $state)."
		fi
		if [ "$st_configured" = yes ]; then
			[ "$configure" = yes ] ||
				die "install changed credential.helper; --no-configure would leave it naming a removed binary: run --uninstall alone"
			command -v git >/dev/null 2>&1 || die "git not found on PATH: install git, or use --no-configure to leave the git config alone"
			restore_config
		fi
	else
		say "No install state at $state: removing what is under $prefix."
		for f in bin/git-credential-pat share/man/man1/git-credential-pat.1 \
			share/bash-completion/completions/git-credential-pat \
			share/zsh/site-functions/_git-credential-pat \
			share/fish/vendor_completions.d/git-credential-pat.fish; do
			printf '%s\n' "$prefix/$f" >>"$tmp/st-files"
		done
		if [ "$configure" = yes ] && command -v git >/dev/null 2>&1; then
			config_file=$(global_config_file)
			read_global_helpers "$tmp/current"
			drop_pat "$tmp/current" "$tmp/restored"
			if ! cmp -s "$tmp/current" "$tmp/restored"; then
				set_global_helpers "$tmp/restored"
				say "Removed pat from credential.helper in $config_file; the other helpers were left as they are:"
				print_helpers "$tmp/restored"
			fi
		fi
	fi

	while IFS= read -r f; do
		if [ -e "$f" ] || [ -L "$f" ]; then
			rm -f "$f" || die "cannot remove $f"
			say "  removed  $f"
		fi
	done <"$tmp/st-files"
	rm -f "$state"
	awk '{ d[NR] = $0 } END { for (i = NR; i > 0; i--) print d[i] }' "$tmp/st-dirs" |
		while IFS= read -r d; do rmdir "$d" 2>/dev/null || true; done

	if [ "$configure" = yes ] && command -v git >/dev/null 2>&1; then
		git config --get-all credential.helper >"$tmp/left" 2>/dev/null || true
		while IFS= read -r v; do
			if names_pat "$v"; then warn "credential.helper still names pat: '$v' (install.sh did not add it); remove it with git config --global --edit"; fi
		done <"$tmp/left"
	fi
	creds=${GIT_CREDENTIAL_PAT_FILE:-$data_dir/credentials}
	if [ -e "$creds" ]; then
		say "Stored tokens were not deleted: the file backend keeps them in $creds,"
	else
		say "Stored tokens were not deleted: the file backend keeps them in $creds (none there now),"
	fi
	say "  and the keychain backend in your OS keychain (look for git-credential-pat entries)."
	say "Uninstalled git-credential-pat."
}

# --- main ---------------------------------------------------------------------------------

prefix='' prefix_given=no configure=yes action=install
while [ $# -gt 0 ]; do
	case $1 in
	--prefix=*)
		prefix=${1#--prefix=}
		prefix_given=yes
		;;
	--prefix)
		[ $# -ge 2 ] || usage_error "--prefix needs a directory"
		prefix=$2 prefix_given=yes
		shift
		;;
	--no-configure) configure=no ;;
	--uninstall) action=uninstall ;;
	-h | --help)
		usage
		exit 0
		;;
	*) usage_error "unknown option: $1" ;;
	esac
	shift
done

[ -n "${HOME:-}" ] || die "HOME is not set"
if [ "$prefix_given" = yes ] && [ -z "$prefix" ]; then usage_error "--prefix needs a directory"; fi
case $prefix in
'') prefix=$HOME/.local ;;
\~) prefix=$HOME ;;
\~/*) prefix=$HOME/${prefix#??} ;;
/*) ;;
*) prefix=$PWD/$prefix ;;
esac
case $prefix in *'
'*) die "--prefix must not contain a newline" ;;
esac
while :; do
	case $prefix in
	/) break ;;
	*/) prefix=${prefix%/} ;;
	*) break ;;
	esac
done

case ${XDG_DATA_HOME:-} in
/*) data_dir=$XDG_DATA_HOME/git-credential-pat ;;
*) data_dir=$HOME/.local/share/git-credential-pat ;;
esac
state=$data_dir/install-state
src=$(cd "$(dirname "$0")" && pwd -P)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/git-credential-pat-install.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$action" = install ]; then do_install; else do_uninstall; fi
