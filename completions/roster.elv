
use builtin;
use str;

set edit:completion:arg-completer[roster] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'roster'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'roster'= {
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand fetch 'Store the source file as a new batch'
            cand validate 'Check an import file; with FILE or - it needs no store and writes nothing'
            cand diff 'Show the plan of the newest (or given) batch'
            cand apply 'Apply the plan of the newest (or given) batch'
            cand revert 'Undo one run from its audit rows, leaving later changes alone'
            cand batches 'The stored files'
            cand report 'Summarise runs'
            cand groups 'Manage groups'
            cand users 'The directory'
            cand sync 'Fetch, validate, diff, apply, send invitations and the report when due (for cron)'
            cand push 'Bring the SCIM 2.0 provider of [scim] in step with the store'
            cand status 'Health for operators and monitoring; exit 1 when unhealthy'
            cand completions 'Print a shell completion script'
            cand man 'Print the man page'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'roster;fetch'= {
            cand --source 'Where the file comes from: sftp://user@host[:port]/path, a local path, or - for stdin'
            cand --trust-host-key 'Add the server''s host key to known_hosts when it has this fingerprint'
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand --check 'Only connect, verify the host key, authenticate and stat the file'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;validate'= {
            cand --batch 'Check a stored batch against the store'
            cand --groups 'The known group IDs, when there is no store (without it, group IDs are not checked)'
            cand --groups-file 'The known groups from a CSV with a GroupID column (the file of roster groups import)'
            cand --default-region 'The region of phone numbers written without a country code, such as SE [default: csv.default_region]'
            cand --limit 'Print at most N problems in a table [default: 50]'
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand --strict 'Turn warnings into errors'
            cand --all 'Print every problem in a table'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;diff'= {
            cand --batch 'The batch to plan [default: the newest]'
            cand --limit 'Print at most N changes [default: 50 in a table; every change in JSON]'
            cand --action 'Only changes of this action (repeat, or separate with commas)'
            cand --field 'Only changes that set this field (repeat, or separate with commas)'
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand --all 'Print every change'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;apply'= {
            cand --batch 'The batch to apply [default: the newest]'
            cand --allow-creates 'Release the churn safeguard of creates up to N for this run'
            cand --allow-removals 'Raise the removal safeguard to N for this run'
            cand --allow-updates 'Raise the update safeguard to N for this run'
            cand --allow-invalid 'Raise the invalid-record safeguard to N for this run'
            cand --expect-plan 'Apply only if the plan computed now has this digest (as diff and a blocked run show it)'
            cand --reason 'Why this run is made (recorded with it, shown in history and reports)'
            cand --limit 'Print at most N changes [default: 50 in a table; every change in JSON]'
            cand --action 'Only changes of this action (repeat, or separate with commas)'
            cand --field 'Only changes that set this field (repeat, or separate with commas)'
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand --dry-run 'Print what would be done; store nothing, send nothing'
            cand --allow-unknown-groups 'Ignore memberships in unknown groups this run (import.unknown_groups = "block")'
            cand --force 'Apply a batch older than the newest applied one (a rollback)'
            cand --no-push 'Do not push to the SCIM provider after the commit (with [scim])'
            cand --all 'Print every change'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;revert'= {
            cand --allow-removals 'Raise the removal safeguard to N for this run'
            cand --allow-updates 'Raise the update safeguard to N for this run'
            cand --allow-invalid 'Raise the invalid-record safeguard to N for this run'
            cand --reason 'Why this run is made (recorded with it, shown in history and reports)'
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand --dry-run 'Print what would be done; store nothing'
            cand --no-push 'Do not push to the SCIM provider after the commit (with [scim])'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;batches'= {
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand list 'List the stored files'
            cand show 'Show one batch'
            cand export 'Write a batch''s bytes to standard output'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'roster;batches;list'= {
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;batches;show'= {
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;batches;export'= {
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;batches;help'= {
            cand list 'List the stored files'
            cand show 'Show one batch'
            cand export 'Write a batch''s bytes to standard output'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'roster;batches;help;list'= {
        }
        &'roster;batches;help;show'= {
        }
        &'roster;batches;help;export'= {
        }
        &'roster;batches;help;help'= {
        }
        &'roster;report'= {
            cand --run 'One run'
            cand --since 'Every run since WHEN: a date (2026-11-01), a time (RFC 3339) or an age (24h, 7d)'
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand --send 'Mail the report to [report] recipients'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;groups'= {
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand list 'List groups with their member counts'
            cand add 'Add a group; with an ID it is managed by imports, without one by hand'
            cand rename 'Rename a group (GROUP is an ID or, for a manual group, a name)'
            cand remove 'Remove a group; one with members needs --force'
            cand members 'List members; --add/--remove change a manual group'
            cand import 'Read a CSV with a GroupID column and an optional Name column'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'roster;groups;list'= {
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;groups;add'= {
            cand --name 'name'
            cand --reason 'Why (recorded with the run, shown in history and reports)'
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;groups;rename'= {
            cand --reason 'Why (recorded with the run, shown in history and reports)'
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;groups;remove'= {
            cand --reason 'Why (recorded with the run, shown in history and reports)'
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand --force 'force'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;groups;members'= {
            cand --add 'A UniqueID or mail address to add'
            cand --remove 'A UniqueID or mail address to remove'
            cand --reason 'Why (recorded with the run, shown in history and reports)'
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;groups;import'= {
            cand --encoding 'The file''s encoding (utf-8, utf-16, windows-1252); detected when not given (csv.encoding is for import files, not this one)'
            cand --reason 'Why (recorded with the run, shown in history and reports)'
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;groups;help'= {
            cand list 'List groups with their member counts'
            cand add 'Add a group; with an ID it is managed by imports, without one by hand'
            cand rename 'Rename a group (GROUP is an ID or, for a manual group, a name)'
            cand remove 'Remove a group; one with members needs --force'
            cand members 'List members; --add/--remove change a manual group'
            cand import 'Read a CSV with a GroupID column and an optional Name column'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'roster;groups;help;list'= {
        }
        &'roster;groups;help;add'= {
        }
        &'roster;groups;help;rename'= {
        }
        &'roster;groups;help;remove'= {
        }
        &'roster;groups;help;members'= {
        }
        &'roster;groups;help;import'= {
        }
        &'roster;groups;help;help'= {
        }
        &'roster;users'= {
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand list 'List users (everyone unless filtered)'
            cand show 'Show one user (USER is a UniqueID, a mail address, or the whole name of one user)'
            cand history 'The audit log of one user (USER as for show)'
            cand add 'Add a manual user'
            cand edit 'Edit a manual user, or the phone numbers of anyone'
            cand remove 'Remove a manual user'
            cand export 'Write the directory in the import format'
            cand invite 'Send an invitation to USER (once, unless --resend), every pending one, or every user never invited'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'roster;users;list'= {
            cand --status 'status'
            cand --group 'A group ID or a manual group''s name'
            cand --search 'Only users whose UniqueID, name, mail or title contains TEXT (ignoring case and accents)'
            cand --limit 'Print at most N users [default: 50 in a table; every user in JSON]'
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand --all 'Print every user'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;users;show'= {
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;users;history'= {
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;users;add'= {
            cand --name 'name'
            cand --mail 'mail'
            cand --title 'title'
            cand --phone 'phone'
            cand --phone2 'phone2'
            cand --reason 'Why (recorded with the run, shown in history and reports)'
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;users;edit'= {
            cand --name 'name'
            cand --mail 'mail'
            cand --title 'An empty value clears the title'
            cand --phone 'An empty value clears the number'
            cand --phone2 'An empty value clears the number'
            cand --reason 'Why (recorded with the run, shown in history and reports)'
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;users;remove'= {
            cand --reason 'Why (recorded with the run, shown in history and reports)'
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;users;export'= {
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;users;invite'= {
            cand --group 'With --uninvited: only the members of this group (Group ID or name)'
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand --resend 'Invite again even though an invitation was sent (or left in `sending` by a run that stopped)'
            cand --pending 'Send every pending invitation, and list those a stopped run left in `sending`'
            cand --uninvited 'Invite every active user that was never invited (imported before invitations were turned on, say)'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;users;help'= {
            cand list 'List users (everyone unless filtered)'
            cand show 'Show one user (USER is a UniqueID, a mail address, or the whole name of one user)'
            cand history 'The audit log of one user (USER as for show)'
            cand add 'Add a manual user'
            cand edit 'Edit a manual user, or the phone numbers of anyone'
            cand remove 'Remove a manual user'
            cand export 'Write the directory in the import format'
            cand invite 'Send an invitation to USER (once, unless --resend), every pending one, or every user never invited'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'roster;users;help;list'= {
        }
        &'roster;users;help;show'= {
        }
        &'roster;users;help;history'= {
        }
        &'roster;users;help;add'= {
        }
        &'roster;users;help;edit'= {
        }
        &'roster;users;help;remove'= {
        }
        &'roster;users;help;export'= {
        }
        &'roster;users;help;invite'= {
        }
        &'roster;users;help;help'= {
        }
        &'roster;sync'= {
            cand --source 'Where the file comes from: sftp://user@host[:port]/path, a local path, or - for stdin'
            cand --allow-creates 'Release the churn safeguard of creates up to N for this run'
            cand --allow-removals 'Raise the removal safeguard to N for this run'
            cand --allow-updates 'Raise the update safeguard to N for this run'
            cand --allow-invalid 'Raise the invalid-record safeguard to N for this run'
            cand --reason 'Why this run is made (recorded with it, shown in history and reports)'
            cand --limit 'Print at most N changes [default: 50 in a table; every change in JSON]'
            cand --action 'Only changes of this action (repeat, or separate with commas)'
            cand --field 'Only changes that set this field (repeat, or separate with commas)'
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand --dry-run 'Print what would be done; store nothing, send nothing'
            cand --allow-unknown-groups 'Ignore memberships in unknown groups this run (import.unknown_groups = "block")'
            cand --all 'Print every change'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;push'= {
            cand --allow-removals 'Raise the removal safeguard to N deactivations or deletions for this push'
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand --dry-run 'Print what would be sent; send nothing, store nothing'
            cand --full 'Read the provider''s users and groups and put back whatever drifted'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;status'= {
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;completions'= {
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;man'= {
            cand --config 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]'
            cand --store 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]'
            cand --format 'Output format, for commands that print data'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand -v 'Say more about what is done (repeat for more)'
            cand --verbose 'Say more about what is done (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'roster;help'= {
            cand fetch 'Store the source file as a new batch'
            cand validate 'Check an import file; with FILE or - it needs no store and writes nothing'
            cand diff 'Show the plan of the newest (or given) batch'
            cand apply 'Apply the plan of the newest (or given) batch'
            cand revert 'Undo one run from its audit rows, leaving later changes alone'
            cand batches 'The stored files'
            cand report 'Summarise runs'
            cand groups 'Manage groups'
            cand users 'The directory'
            cand sync 'Fetch, validate, diff, apply, send invitations and the report when due (for cron)'
            cand push 'Bring the SCIM 2.0 provider of [scim] in step with the store'
            cand status 'Health for operators and monitoring; exit 1 when unhealthy'
            cand completions 'Print a shell completion script'
            cand man 'Print the man page'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'roster;help;fetch'= {
        }
        &'roster;help;validate'= {
        }
        &'roster;help;diff'= {
        }
        &'roster;help;apply'= {
        }
        &'roster;help;revert'= {
        }
        &'roster;help;batches'= {
            cand list 'List the stored files'
            cand show 'Show one batch'
            cand export 'Write a batch''s bytes to standard output'
        }
        &'roster;help;batches;list'= {
        }
        &'roster;help;batches;show'= {
        }
        &'roster;help;batches;export'= {
        }
        &'roster;help;report'= {
        }
        &'roster;help;groups'= {
            cand list 'List groups with their member counts'
            cand add 'Add a group; with an ID it is managed by imports, without one by hand'
            cand rename 'Rename a group (GROUP is an ID or, for a manual group, a name)'
            cand remove 'Remove a group; one with members needs --force'
            cand members 'List members; --add/--remove change a manual group'
            cand import 'Read a CSV with a GroupID column and an optional Name column'
        }
        &'roster;help;groups;list'= {
        }
        &'roster;help;groups;add'= {
        }
        &'roster;help;groups;rename'= {
        }
        &'roster;help;groups;remove'= {
        }
        &'roster;help;groups;members'= {
        }
        &'roster;help;groups;import'= {
        }
        &'roster;help;users'= {
            cand list 'List users (everyone unless filtered)'
            cand show 'Show one user (USER is a UniqueID, a mail address, or the whole name of one user)'
            cand history 'The audit log of one user (USER as for show)'
            cand add 'Add a manual user'
            cand edit 'Edit a manual user, or the phone numbers of anyone'
            cand remove 'Remove a manual user'
            cand export 'Write the directory in the import format'
            cand invite 'Send an invitation to USER (once, unless --resend), every pending one, or every user never invited'
        }
        &'roster;help;users;list'= {
        }
        &'roster;help;users;show'= {
        }
        &'roster;help;users;history'= {
        }
        &'roster;help;users;add'= {
        }
        &'roster;help;users;edit'= {
        }
        &'roster;help;users;remove'= {
        }
        &'roster;help;users;export'= {
        }
        &'roster;help;users;invite'= {
        }
        &'roster;help;sync'= {
        }
        &'roster;help;push'= {
        }
        &'roster;help;status'= {
        }
        &'roster;help;completions'= {
        }
        &'roster;help;man'= {
        }
        &'roster;help;help'= {
        }
    ]
    $completions[$command]
}
