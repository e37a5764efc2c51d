# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_roster_global_optspecs
    string join \n config= store= q/quiet v/verbose format= h/help V/version
end

function __fish_roster_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_roster_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_roster_using_subcommand
    set -l cmd (__fish_roster_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c roster -n "__fish_roster_needs_command" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_needs_command" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_needs_command" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_needs_command" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_needs_command" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_needs_command" -s V -l version -d 'Print version'
complete -c roster -n "__fish_roster_needs_command" -f -a "fetch" -d 'Store the source file as a new batch'
complete -c roster -n "__fish_roster_needs_command" -f -a "validate" -d 'Check an import file; with FILE or - it needs no store and writes nothing'
complete -c roster -n "__fish_roster_needs_command" -f -a "diff" -d 'Show the plan of the newest (or given) batch'
complete -c roster -n "__fish_roster_needs_command" -f -a "apply" -d 'Apply the plan of the newest (or given) batch'
complete -c roster -n "__fish_roster_needs_command" -f -a "revert" -d 'Undo one run from its audit rows, leaving later changes alone'
complete -c roster -n "__fish_roster_needs_command" -f -a "batches" -d 'The stored files'
complete -c roster -n "__fish_roster_needs_command" -f -a "report" -d 'Summarise runs'
complete -c roster -n "__fish_roster_needs_command" -f -a "groups" -d 'Manage groups'
complete -c roster -n "__fish_roster_needs_command" -f -a "users" -d 'The directory'
complete -c roster -n "__fish_roster_needs_command" -f -a "sync" -d 'Fetch, validate, diff, apply, send invitations and the report when due (for cron)'
complete -c roster -n "__fish_roster_needs_command" -f -a "push" -d 'Bring the SCIM 2.0 provider of [scim] in step with the store'
complete -c roster -n "__fish_roster_needs_command" -f -a "status" -d 'Health for operators and monitoring; exit 1 when unhealthy'
complete -c roster -n "__fish_roster_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c roster -n "__fish_roster_needs_command" -f -a "man" -d 'Print the man page'
complete -c roster -n "__fish_roster_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c roster -n "__fish_roster_using_subcommand fetch" -l source -d 'Where the file comes from: sftp://user@host[:port]/path, a local path, or - for stdin' -r
complete -c roster -n "__fish_roster_using_subcommand fetch" -l trust-host-key -d 'Add the server\'s host key to known_hosts when it has this fingerprint' -r
complete -c roster -n "__fish_roster_using_subcommand fetch" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand fetch" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand fetch" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand fetch" -l check -d 'Only connect, verify the host key, authenticate and stat the file'
complete -c roster -n "__fish_roster_using_subcommand fetch" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand fetch" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand fetch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand validate" -l batch -d 'Check a stored batch against the store' -r
complete -c roster -n "__fish_roster_using_subcommand validate" -l groups -d 'The known group IDs, when there is no store (without it, group IDs are not checked)' -r
complete -c roster -n "__fish_roster_using_subcommand validate" -l groups-file -d 'The known groups from a CSV with a GroupID column (the file of roster groups import)' -r -F
complete -c roster -n "__fish_roster_using_subcommand validate" -l default-region -d 'The region of phone numbers written without a country code, such as SE [default: csv.default_region]' -r
complete -c roster -n "__fish_roster_using_subcommand validate" -l limit -d 'Print at most N problems in a table [default: 50]' -r
complete -c roster -n "__fish_roster_using_subcommand validate" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand validate" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand validate" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand validate" -l strict -d 'Turn warnings into errors'
complete -c roster -n "__fish_roster_using_subcommand validate" -l all -d 'Print every problem in a table'
complete -c roster -n "__fish_roster_using_subcommand validate" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand validate" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand diff" -l batch -d 'The batch to plan [default: the newest]' -r
complete -c roster -n "__fish_roster_using_subcommand diff" -l limit -d 'Print at most N changes [default: 50 in a table; every change in JSON]' -r
complete -c roster -n "__fish_roster_using_subcommand diff" -l action -d 'Only changes of this action (repeat, or separate with commas)' -r -f -a "create\t''
adopt\t''
update\t''
reactivate\t''
remove\t''
missing\t''
invalid\t''"
complete -c roster -n "__fish_roster_using_subcommand diff" -l field -d 'Only changes that set this field (repeat, or separate with commas)' -r -f -a "name\t''
mail\t''
title\t''
phone\t''
phone2\t''
groups\t''
status\t''"
complete -c roster -n "__fish_roster_using_subcommand diff" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand diff" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand diff" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand diff" -l all -d 'Print every change'
complete -c roster -n "__fish_roster_using_subcommand diff" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand diff" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand apply" -l batch -d 'The batch to apply [default: the newest]' -r
complete -c roster -n "__fish_roster_using_subcommand apply" -l allow-creates -d 'Release the churn safeguard of creates up to N for this run' -r
complete -c roster -n "__fish_roster_using_subcommand apply" -l allow-removals -d 'Raise the removal safeguard to N for this run' -r
complete -c roster -n "__fish_roster_using_subcommand apply" -l allow-updates -d 'Raise the update safeguard to N for this run' -r
complete -c roster -n "__fish_roster_using_subcommand apply" -l allow-invalid -d 'Raise the invalid-record safeguard to N for this run' -r
complete -c roster -n "__fish_roster_using_subcommand apply" -l expect-plan -d 'Apply only if the plan computed now has this digest (as diff and a blocked run show it)' -r
complete -c roster -n "__fish_roster_using_subcommand apply" -l reason -d 'Why this run is made (recorded with it, shown in history and reports)' -r
complete -c roster -n "__fish_roster_using_subcommand apply" -l limit -d 'Print at most N changes [default: 50 in a table; every change in JSON]' -r
complete -c roster -n "__fish_roster_using_subcommand apply" -l action -d 'Only changes of this action (repeat, or separate with commas)' -r -f -a "create\t''
adopt\t''
update\t''
reactivate\t''
remove\t''
missing\t''
invalid\t''"
complete -c roster -n "__fish_roster_using_subcommand apply" -l field -d 'Only changes that set this field (repeat, or separate with commas)' -r -f -a "name\t''
mail\t''
title\t''
phone\t''
phone2\t''
groups\t''
status\t''"
complete -c roster -n "__fish_roster_using_subcommand apply" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand apply" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand apply" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand apply" -l dry-run -d 'Print what would be done; store nothing, send nothing'
complete -c roster -n "__fish_roster_using_subcommand apply" -l allow-unknown-groups -d 'Ignore memberships in unknown groups this run (import.unknown_groups = "block")'
complete -c roster -n "__fish_roster_using_subcommand apply" -l force -d 'Apply a batch older than the newest applied one (a rollback)'
complete -c roster -n "__fish_roster_using_subcommand apply" -l no-push -d 'Do not push to the SCIM provider after the commit (with [scim])'
complete -c roster -n "__fish_roster_using_subcommand apply" -l all -d 'Print every change'
complete -c roster -n "__fish_roster_using_subcommand apply" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand apply" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand revert" -l allow-removals -d 'Raise the removal safeguard to N for this run' -r
complete -c roster -n "__fish_roster_using_subcommand revert" -l allow-updates -d 'Raise the update safeguard to N for this run' -r
complete -c roster -n "__fish_roster_using_subcommand revert" -l allow-invalid -d 'Raise the invalid-record safeguard to N for this run' -r
complete -c roster -n "__fish_roster_using_subcommand revert" -l reason -d 'Why this run is made (recorded with it, shown in history and reports)' -r
complete -c roster -n "__fish_roster_using_subcommand revert" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand revert" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand revert" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand revert" -l dry-run -d 'Print what would be done; store nothing'
complete -c roster -n "__fish_roster_using_subcommand revert" -l no-push -d 'Do not push to the SCIM provider after the commit (with [scim])'
complete -c roster -n "__fish_roster_using_subcommand revert" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand revert" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand revert" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand batches; and not __fish_seen_subcommand_from list show export help" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand batches; and not __fish_seen_subcommand_from list show export help" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand batches; and not __fish_seen_subcommand_from list show export help" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand batches; and not __fish_seen_subcommand_from list show export help" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand batches; and not __fish_seen_subcommand_from list show export help" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand batches; and not __fish_seen_subcommand_from list show export help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand batches; and not __fish_seen_subcommand_from list show export help" -f -a "list" -d 'List the stored files'
complete -c roster -n "__fish_roster_using_subcommand batches; and not __fish_seen_subcommand_from list show export help" -f -a "show" -d 'Show one batch'
complete -c roster -n "__fish_roster_using_subcommand batches; and not __fish_seen_subcommand_from list show export help" -f -a "export" -d 'Write a batch\'s bytes to standard output'
complete -c roster -n "__fish_roster_using_subcommand batches; and not __fish_seen_subcommand_from list show export help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from list" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from list" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from list" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from show" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from show" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from show" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from export" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from export" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from export" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from export" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the stored files'
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one batch'
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from help" -f -a "export" -d 'Write a batch\'s bytes to standard output'
complete -c roster -n "__fish_roster_using_subcommand batches; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c roster -n "__fish_roster_using_subcommand report" -l run -d 'One run' -r
complete -c roster -n "__fish_roster_using_subcommand report" -l since -d 'Every run since WHEN: a date (2026-11-01), a time (RFC 3339) or an age (24h, 7d)' -r
complete -c roster -n "__fish_roster_using_subcommand report" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand report" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand report" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand report" -l send -d 'Mail the report to [report] recipients'
complete -c roster -n "__fish_roster_using_subcommand report" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand report" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand report" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand groups; and not __fish_seen_subcommand_from list add rename remove members import help" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand groups; and not __fish_seen_subcommand_from list add rename remove members import help" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand groups; and not __fish_seen_subcommand_from list add rename remove members import help" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand groups; and not __fish_seen_subcommand_from list add rename remove members import help" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand groups; and not __fish_seen_subcommand_from list add rename remove members import help" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand groups; and not __fish_seen_subcommand_from list add rename remove members import help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand groups; and not __fish_seen_subcommand_from list add rename remove members import help" -f -a "list" -d 'List groups with their member counts'
complete -c roster -n "__fish_roster_using_subcommand groups; and not __fish_seen_subcommand_from list add rename remove members import help" -f -a "add" -d 'Add a group; with an ID it is managed by imports, without one by hand'
complete -c roster -n "__fish_roster_using_subcommand groups; and not __fish_seen_subcommand_from list add rename remove members import help" -f -a "rename" -d 'Rename a group (GROUP is an ID or, for a manual group, a name)'
complete -c roster -n "__fish_roster_using_subcommand groups; and not __fish_seen_subcommand_from list add rename remove members import help" -f -a "remove" -d 'Remove a group; one with members needs --force'
complete -c roster -n "__fish_roster_using_subcommand groups; and not __fish_seen_subcommand_from list add rename remove members import help" -f -a "members" -d 'List members; --add/--remove change a manual group'
complete -c roster -n "__fish_roster_using_subcommand groups; and not __fish_seen_subcommand_from list add rename remove members import help" -f -a "import" -d 'Read a CSV with a GroupID column and an optional Name column'
complete -c roster -n "__fish_roster_using_subcommand groups; and not __fish_seen_subcommand_from list add rename remove members import help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from list" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from list" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from list" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from add" -l name -r
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from add" -l reason -d 'Why (recorded with the run, shown in history and reports)' -r
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from add" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from add" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from add" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from rename" -l reason -d 'Why (recorded with the run, shown in history and reports)' -r
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from rename" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from rename" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from rename" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from rename" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from rename" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from rename" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from remove" -l reason -d 'Why (recorded with the run, shown in history and reports)' -r
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from remove" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from remove" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from remove" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from remove" -l force
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from members" -l add -d 'A UniqueID or mail address to add' -r
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from members" -l remove -d 'A UniqueID or mail address to remove' -r
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from members" -l reason -d 'Why (recorded with the run, shown in history and reports)' -r
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from members" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from members" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from members" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from members" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from members" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from members" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from import" -l encoding -d 'The file\'s encoding (utf-8, utf-16, windows-1252); detected when not given (csv.encoding is for import files, not this one)' -r
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from import" -l reason -d 'Why (recorded with the run, shown in history and reports)' -r
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from import" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from import" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from import" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from import" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from help" -f -a "list" -d 'List groups with their member counts'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a group; with an ID it is managed by imports, without one by hand'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from help" -f -a "rename" -d 'Rename a group (GROUP is an ID or, for a manual group, a name)'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a group; one with members needs --force'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from help" -f -a "members" -d 'List members; --add/--remove change a manual group'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from help" -f -a "import" -d 'Read a CSV with a GroupID column and an optional Name column'
complete -c roster -n "__fish_roster_using_subcommand groups; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c roster -n "__fish_roster_using_subcommand users; and not __fish_seen_subcommand_from list show history add edit remove export invite help" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand users; and not __fish_seen_subcommand_from list show history add edit remove export invite help" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand users; and not __fish_seen_subcommand_from list show history add edit remove export invite help" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand users; and not __fish_seen_subcommand_from list show history add edit remove export invite help" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand users; and not __fish_seen_subcommand_from list show history add edit remove export invite help" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand users; and not __fish_seen_subcommand_from list show history add edit remove export invite help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand users; and not __fish_seen_subcommand_from list show history add edit remove export invite help" -f -a "list" -d 'List users (everyone unless filtered)'
complete -c roster -n "__fish_roster_using_subcommand users; and not __fish_seen_subcommand_from list show history add edit remove export invite help" -f -a "show" -d 'Show one user (USER is a UniqueID, a mail address, or the whole name of one user)'
complete -c roster -n "__fish_roster_using_subcommand users; and not __fish_seen_subcommand_from list show history add edit remove export invite help" -f -a "history" -d 'The audit log of one user (USER as for show)'
complete -c roster -n "__fish_roster_using_subcommand users; and not __fish_seen_subcommand_from list show history add edit remove export invite help" -f -a "add" -d 'Add a manual user'
complete -c roster -n "__fish_roster_using_subcommand users; and not __fish_seen_subcommand_from list show history add edit remove export invite help" -f -a "edit" -d 'Edit a manual user, or the phone numbers of anyone'
complete -c roster -n "__fish_roster_using_subcommand users; and not __fish_seen_subcommand_from list show history add edit remove export invite help" -f -a "remove" -d 'Remove a manual user'
complete -c roster -n "__fish_roster_using_subcommand users; and not __fish_seen_subcommand_from list show history add edit remove export invite help" -f -a "export" -d 'Write the directory in the import format'
complete -c roster -n "__fish_roster_using_subcommand users; and not __fish_seen_subcommand_from list show history add edit remove export invite help" -f -a "invite" -d 'Send an invitation to USER (once, unless --resend), every pending one, or every user never invited'
complete -c roster -n "__fish_roster_using_subcommand users; and not __fish_seen_subcommand_from list show history add edit remove export invite help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from list" -l status -r -f -a "active\t''
deactivated\t''"
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from list" -l group -d 'A group ID or a manual group\'s name' -r
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from list" -l search -d 'Only users whose UniqueID, name, mail or title contains TEXT (ignoring case and accents)' -r
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from list" -l limit -d 'Print at most N users [default: 50 in a table; every user in JSON]' -r
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from list" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from list" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from list" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from list" -l all -d 'Print every user'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from show" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from show" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from show" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from history" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from history" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from history" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from history" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from history" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from add" -l name -r
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from add" -l mail -r
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from add" -l title -r
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from add" -l phone -r
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from add" -l phone2 -r
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from add" -l reason -d 'Why (recorded with the run, shown in history and reports)' -r
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from add" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from add" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from add" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from edit" -l name -r
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from edit" -l mail -r
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from edit" -l title -d 'An empty value clears the title' -r
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from edit" -l phone -d 'An empty value clears the number' -r
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from edit" -l phone2 -d 'An empty value clears the number' -r
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from edit" -l reason -d 'Why (recorded with the run, shown in history and reports)' -r
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from edit" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from edit" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from edit" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from edit" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from edit" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from edit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from remove" -l reason -d 'Why (recorded with the run, shown in history and reports)' -r
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from remove" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from remove" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from remove" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from export" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from export" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from export" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from export" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from invite" -l group -d 'With --uninvited: only the members of this group (Group ID or name)' -r
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from invite" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from invite" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from invite" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from invite" -l resend -d 'Invite again even though an invitation was sent (or left in `sending` by a run that stopped)'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from invite" -l pending -d 'Send every pending invitation, and list those a stopped run left in `sending`'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from invite" -l uninvited -d 'Invite every active user that was never invited (imported before invitations were turned on, say)'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from invite" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from invite" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from invite" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "list" -d 'List users (everyone unless filtered)'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one user (USER is a UniqueID, a mail address, or the whole name of one user)'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "history" -d 'The audit log of one user (USER as for show)'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a manual user'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "edit" -d 'Edit a manual user, or the phone numbers of anyone'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a manual user'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "export" -d 'Write the directory in the import format'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "invite" -d 'Send an invitation to USER (once, unless --resend), every pending one, or every user never invited'
complete -c roster -n "__fish_roster_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c roster -n "__fish_roster_using_subcommand sync" -l source -d 'Where the file comes from: sftp://user@host[:port]/path, a local path, or - for stdin' -r
complete -c roster -n "__fish_roster_using_subcommand sync" -l allow-creates -d 'Release the churn safeguard of creates up to N for this run' -r
complete -c roster -n "__fish_roster_using_subcommand sync" -l allow-removals -d 'Raise the removal safeguard to N for this run' -r
complete -c roster -n "__fish_roster_using_subcommand sync" -l allow-updates -d 'Raise the update safeguard to N for this run' -r
complete -c roster -n "__fish_roster_using_subcommand sync" -l allow-invalid -d 'Raise the invalid-record safeguard to N for this run' -r
complete -c roster -n "__fish_roster_using_subcommand sync" -l reason -d 'Why this run is made (recorded with it, shown in history and reports)' -r
complete -c roster -n "__fish_roster_using_subcommand sync" -l limit -d 'Print at most N changes [default: 50 in a table; every change in JSON]' -r
complete -c roster -n "__fish_roster_using_subcommand sync" -l action -d 'Only changes of this action (repeat, or separate with commas)' -r -f -a "create\t''
adopt\t''
update\t''
reactivate\t''
remove\t''
missing\t''
invalid\t''"
complete -c roster -n "__fish_roster_using_subcommand sync" -l field -d 'Only changes that set this field (repeat, or separate with commas)' -r -f -a "name\t''
mail\t''
title\t''
phone\t''
phone2\t''
groups\t''
status\t''"
complete -c roster -n "__fish_roster_using_subcommand sync" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand sync" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand sync" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand sync" -l dry-run -d 'Print what would be done; store nothing, send nothing'
complete -c roster -n "__fish_roster_using_subcommand sync" -l allow-unknown-groups -d 'Ignore memberships in unknown groups this run (import.unknown_groups = "block")'
complete -c roster -n "__fish_roster_using_subcommand sync" -l all -d 'Print every change'
complete -c roster -n "__fish_roster_using_subcommand sync" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand sync" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand sync" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand push" -l allow-removals -d 'Raise the removal safeguard to N deactivations or deletions for this push' -r
complete -c roster -n "__fish_roster_using_subcommand push" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand push" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand push" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand push" -l dry-run -d 'Print what would be sent; send nothing, store nothing'
complete -c roster -n "__fish_roster_using_subcommand push" -l full -d 'Read the provider\'s users and groups and put back whatever drifted'
complete -c roster -n "__fish_roster_using_subcommand push" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand push" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand push" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand status" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand status" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand status" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand status" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand status" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand completions" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand completions" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand completions" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand completions" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand completions" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand man" -l config -d 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]' -r -F
complete -c roster -n "__fish_roster_using_subcommand man" -l store -d 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]' -r -F
complete -c roster -n "__fish_roster_using_subcommand man" -l format -d 'Output format, for commands that print data' -r -f -a "table\t''
json\t''
github\t'GitHub Actions annotations (validate)'
text\t'Plain text (report)'
html\t'HTML (report)'
prometheus\t'Prometheus text format, for node_exporter\'s textfile collector (status)'"
complete -c roster -n "__fish_roster_using_subcommand man" -s q -l quiet -d 'Print nothing on success'
complete -c roster -n "__fish_roster_using_subcommand man" -s v -l verbose -d 'Say more about what is done (repeat for more)'
complete -c roster -n "__fish_roster_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c roster -n "__fish_roster_using_subcommand help; and not __fish_seen_subcommand_from fetch validate diff apply revert batches report groups users sync push status completions man help" -f -a "fetch" -d 'Store the source file as a new batch'
complete -c roster -n "__fish_roster_using_subcommand help; and not __fish_seen_subcommand_from fetch validate diff apply revert batches report groups users sync push status completions man help" -f -a "validate" -d 'Check an import file; with FILE or - it needs no store and writes nothing'
complete -c roster -n "__fish_roster_using_subcommand help; and not __fish_seen_subcommand_from fetch validate diff apply revert batches report groups users sync push status completions man help" -f -a "diff" -d 'Show the plan of the newest (or given) batch'
complete -c roster -n "__fish_roster_using_subcommand help; and not __fish_seen_subcommand_from fetch validate diff apply revert batches report groups users sync push status completions man help" -f -a "apply" -d 'Apply the plan of the newest (or given) batch'
complete -c roster -n "__fish_roster_using_subcommand help; and not __fish_seen_subcommand_from fetch validate diff apply revert batches report groups users sync push status completions man help" -f -a "revert" -d 'Undo one run from its audit rows, leaving later changes alone'
complete -c roster -n "__fish_roster_using_subcommand help; and not __fish_seen_subcommand_from fetch validate diff apply revert batches report groups users sync push status completions man help" -f -a "batches" -d 'The stored files'
complete -c roster -n "__fish_roster_using_subcommand help; and not __fish_seen_subcommand_from fetch validate diff apply revert batches report groups users sync push status completions man help" -f -a "report" -d 'Summarise runs'
complete -c roster -n "__fish_roster_using_subcommand help; and not __fish_seen_subcommand_from fetch validate diff apply revert batches report groups users sync push status completions man help" -f -a "groups" -d 'Manage groups'
complete -c roster -n "__fish_roster_using_subcommand help; and not __fish_seen_subcommand_from fetch validate diff apply revert batches report groups users sync push status completions man help" -f -a "users" -d 'The directory'
complete -c roster -n "__fish_roster_using_subcommand help; and not __fish_seen_subcommand_from fetch validate diff apply revert batches report groups users sync push status completions man help" -f -a "sync" -d 'Fetch, validate, diff, apply, send invitations and the report when due (for cron)'
complete -c roster -n "__fish_roster_using_subcommand help; and not __fish_seen_subcommand_from fetch validate diff apply revert batches report groups users sync push status completions man help" -f -a "push" -d 'Bring the SCIM 2.0 provider of [scim] in step with the store'
complete -c roster -n "__fish_roster_using_subcommand help; and not __fish_seen_subcommand_from fetch validate diff apply revert batches report groups users sync push status completions man help" -f -a "status" -d 'Health for operators and monitoring; exit 1 when unhealthy'
complete -c roster -n "__fish_roster_using_subcommand help; and not __fish_seen_subcommand_from fetch validate diff apply revert batches report groups users sync push status completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c roster -n "__fish_roster_using_subcommand help; and not __fish_seen_subcommand_from fetch validate diff apply revert batches report groups users sync push status completions man help" -f -a "man" -d 'Print the man page'
complete -c roster -n "__fish_roster_using_subcommand help; and not __fish_seen_subcommand_from fetch validate diff apply revert batches report groups users sync push status completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c roster -n "__fish_roster_using_subcommand help; and __fish_seen_subcommand_from batches" -f -a "list" -d 'List the stored files'
complete -c roster -n "__fish_roster_using_subcommand help; and __fish_seen_subcommand_from batches" -f -a "show" -d 'Show one batch'
complete -c roster -n "__fish_roster_using_subcommand help; and __fish_seen_subcommand_from batches" -f -a "export" -d 'Write a batch\'s bytes to standard output'
complete -c roster -n "__fish_roster_using_subcommand help; and __fish_seen_subcommand_from groups" -f -a "list" -d 'List groups with their member counts'
complete -c roster -n "__fish_roster_using_subcommand help; and __fish_seen_subcommand_from groups" -f -a "add" -d 'Add a group; with an ID it is managed by imports, without one by hand'
complete -c roster -n "__fish_roster_using_subcommand help; and __fish_seen_subcommand_from groups" -f -a "rename" -d 'Rename a group (GROUP is an ID or, for a manual group, a name)'
complete -c roster -n "__fish_roster_using_subcommand help; and __fish_seen_subcommand_from groups" -f -a "remove" -d 'Remove a group; one with members needs --force'
complete -c roster -n "__fish_roster_using_subcommand help; and __fish_seen_subcommand_from groups" -f -a "members" -d 'List members; --add/--remove change a manual group'
complete -c roster -n "__fish_roster_using_subcommand help; and __fish_seen_subcommand_from groups" -f -a "import" -d 'Read a CSV with a GroupID column and an optional Name column'
complete -c roster -n "__fish_roster_using_subcommand help; and __fish_seen_subcommand_from users" -f -a "list" -d 'List users (everyone unless filtered)'
complete -c roster -n "__fish_roster_using_subcommand help; and __fish_seen_subcommand_from users" -f -a "show" -d 'Show one user (USER is a UniqueID, a mail address, or the whole name of one user)'
complete -c roster -n "__fish_roster_using_subcommand help; and __fish_seen_subcommand_from users" -f -a "history" -d 'The audit log of one user (USER as for show)'
complete -c roster -n "__fish_roster_using_subcommand help; and __fish_seen_subcommand_from users" -f -a "add" -d 'Add a manual user'
complete -c roster -n "__fish_roster_using_subcommand help; and __fish_seen_subcommand_from users" -f -a "edit" -d 'Edit a manual user, or the phone numbers of anyone'
complete -c roster -n "__fish_roster_using_subcommand help; and __fish_seen_subcommand_from users" -f -a "remove" -d 'Remove a manual user'
complete -c roster -n "__fish_roster_using_subcommand help; and __fish_seen_subcommand_from users" -f -a "export" -d 'Write the directory in the import format'
complete -c roster -n "__fish_roster_using_subcommand help; and __fish_seen_subcommand_from users" -f -a "invite" -d 'Send an invitation to USER (once, unless --resend), every pending one, or every user never invited'
