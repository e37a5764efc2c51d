
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'roster' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'roster'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'roster' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('fetch', 'fetch', [CompletionResultType]::ParameterValue, 'Store the source file as a new batch')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check an import file; with FILE or - it needs no store and writes nothing')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show the plan of the newest (or given) batch')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Apply the plan of the newest (or given) batch')
            [CompletionResult]::new('revert', 'revert', [CompletionResultType]::ParameterValue, 'Undo one run from its audit rows, leaving later changes alone')
            [CompletionResult]::new('batches', 'batches', [CompletionResultType]::ParameterValue, 'The stored files')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Summarise runs')
            [CompletionResult]::new('groups', 'groups', [CompletionResultType]::ParameterValue, 'Manage groups')
            [CompletionResult]::new('users', 'users', [CompletionResultType]::ParameterValue, 'The directory')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Fetch, validate, diff, apply, send invitations and the report when due (for cron)')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Bring the SCIM 2.0 provider of [scim] in step with the store')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Health for operators and monitoring; exit 1 when unhealthy')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'roster;fetch' {
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Where the file comes from: sftp://user@host[:port]/path, a local path, or - for stdin')
            [CompletionResult]::new('--trust-host-key', '--trust-host-key', [CompletionResultType]::ParameterName, 'Add the server''s host key to known_hosts when it has this fingerprint')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Only connect, verify the host key, authenticate and stat the file')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;validate' {
            [CompletionResult]::new('--batch', '--batch', [CompletionResultType]::ParameterName, 'Check a stored batch against the store')
            [CompletionResult]::new('--groups', '--groups', [CompletionResultType]::ParameterName, 'The known group IDs, when there is no store (without it, group IDs are not checked)')
            [CompletionResult]::new('--groups-file', '--groups-file', [CompletionResultType]::ParameterName, 'The known groups from a CSV with a GroupID column (the file of roster groups import)')
            [CompletionResult]::new('--default-region', '--default-region', [CompletionResultType]::ParameterName, 'The region of phone numbers written without a country code, such as SE [default: csv.default_region]')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N problems in a table [default: 50]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Turn warnings into errors')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Print every problem in a table')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;diff' {
            [CompletionResult]::new('--batch', '--batch', [CompletionResultType]::ParameterName, 'The batch to plan [default: the newest]')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N changes [default: 50 in a table; every change in JSON]')
            [CompletionResult]::new('--action', '--action', [CompletionResultType]::ParameterName, 'Only changes of this action (repeat, or separate with commas)')
            [CompletionResult]::new('--field', '--field', [CompletionResultType]::ParameterName, 'Only changes that set this field (repeat, or separate with commas)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Print every change')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;apply' {
            [CompletionResult]::new('--batch', '--batch', [CompletionResultType]::ParameterName, 'The batch to apply [default: the newest]')
            [CompletionResult]::new('--allow-creates', '--allow-creates', [CompletionResultType]::ParameterName, 'Release the churn safeguard of creates up to N for this run')
            [CompletionResult]::new('--allow-removals', '--allow-removals', [CompletionResultType]::ParameterName, 'Raise the removal safeguard to N for this run')
            [CompletionResult]::new('--allow-updates', '--allow-updates', [CompletionResultType]::ParameterName, 'Raise the update safeguard to N for this run')
            [CompletionResult]::new('--allow-invalid', '--allow-invalid', [CompletionResultType]::ParameterName, 'Raise the invalid-record safeguard to N for this run')
            [CompletionResult]::new('--expect-plan', '--expect-plan', [CompletionResultType]::ParameterName, 'Apply only if the plan computed now has this digest (as diff and a blocked run show it)')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why this run is made (recorded with it, shown in history and reports)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N changes [default: 50 in a table; every change in JSON]')
            [CompletionResult]::new('--action', '--action', [CompletionResultType]::ParameterName, 'Only changes of this action (repeat, or separate with commas)')
            [CompletionResult]::new('--field', '--field', [CompletionResultType]::ParameterName, 'Only changes that set this field (repeat, or separate with commas)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print what would be done; store nothing, send nothing')
            [CompletionResult]::new('--allow-unknown-groups', '--allow-unknown-groups', [CompletionResultType]::ParameterName, 'Ignore memberships in unknown groups this run (import.unknown_groups = "block")')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Apply a batch older than the newest applied one (a rollback)')
            [CompletionResult]::new('--no-push', '--no-push', [CompletionResultType]::ParameterName, 'Do not push to the SCIM provider after the commit (with [scim])')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Print every change')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;revert' {
            [CompletionResult]::new('--allow-removals', '--allow-removals', [CompletionResultType]::ParameterName, 'Raise the removal safeguard to N for this run')
            [CompletionResult]::new('--allow-updates', '--allow-updates', [CompletionResultType]::ParameterName, 'Raise the update safeguard to N for this run')
            [CompletionResult]::new('--allow-invalid', '--allow-invalid', [CompletionResultType]::ParameterName, 'Raise the invalid-record safeguard to N for this run')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why this run is made (recorded with it, shown in history and reports)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print what would be done; store nothing')
            [CompletionResult]::new('--no-push', '--no-push', [CompletionResultType]::ParameterName, 'Do not push to the SCIM provider after the commit (with [scim])')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;batches' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the stored files')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one batch')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write a batch''s bytes to standard output')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'roster;batches;list' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;batches;show' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;batches;export' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;batches;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the stored files')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one batch')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write a batch''s bytes to standard output')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'roster;batches;help;list' {
            break
        }
        'roster;batches;help;show' {
            break
        }
        'roster;batches;help;export' {
            break
        }
        'roster;batches;help;help' {
            break
        }
        'roster;report' {
            [CompletionResult]::new('--run', '--run', [CompletionResultType]::ParameterName, 'One run')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Every run since WHEN: a date (2026-11-01), a time (RFC 3339) or an age (24h, 7d)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'Mail the report to [report] recipients')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;groups' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List groups with their member counts')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a group; with an ID it is managed by imports, without one by hand')
            [CompletionResult]::new('rename', 'rename', [CompletionResultType]::ParameterValue, 'Rename a group (GROUP is an ID or, for a manual group, a name)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a group; one with members needs --force')
            [CompletionResult]::new('members', 'members', [CompletionResultType]::ParameterValue, 'List members; --add/--remove change a manual group')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Read a CSV with a GroupID column and an optional Name column')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'roster;groups;list' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;groups;add' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'name')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded with the run, shown in history and reports)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;groups;rename' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded with the run, shown in history and reports)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;groups;remove' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded with the run, shown in history and reports)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'force')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;groups;members' {
            [CompletionResult]::new('--add', '--add', [CompletionResultType]::ParameterName, 'A UniqueID or mail address to add')
            [CompletionResult]::new('--remove', '--remove', [CompletionResultType]::ParameterName, 'A UniqueID or mail address to remove')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded with the run, shown in history and reports)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;groups;import' {
            [CompletionResult]::new('--encoding', '--encoding', [CompletionResultType]::ParameterName, 'The file''s encoding (utf-8, utf-16, windows-1252); detected when not given (csv.encoding is for import files, not this one)')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded with the run, shown in history and reports)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;groups;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List groups with their member counts')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a group; with an ID it is managed by imports, without one by hand')
            [CompletionResult]::new('rename', 'rename', [CompletionResultType]::ParameterValue, 'Rename a group (GROUP is an ID or, for a manual group, a name)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a group; one with members needs --force')
            [CompletionResult]::new('members', 'members', [CompletionResultType]::ParameterValue, 'List members; --add/--remove change a manual group')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Read a CSV with a GroupID column and an optional Name column')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'roster;groups;help;list' {
            break
        }
        'roster;groups;help;add' {
            break
        }
        'roster;groups;help;rename' {
            break
        }
        'roster;groups;help;remove' {
            break
        }
        'roster;groups;help;members' {
            break
        }
        'roster;groups;help;import' {
            break
        }
        'roster;groups;help;help' {
            break
        }
        'roster;users' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List users (everyone unless filtered)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one user (USER is a UniqueID, a mail address, or the whole name of one user)')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'The audit log of one user (USER as for show)')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a manual user')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Edit a manual user, or the phone numbers of anyone')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a manual user')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write the directory in the import format')
            [CompletionResult]::new('invite', 'invite', [CompletionResultType]::ParameterValue, 'Send an invitation to USER (once, unless --resend), every pending one, or every user never invited')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'roster;users;list' {
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'status')
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'A group ID or a manual group''s name')
            [CompletionResult]::new('--search', '--search', [CompletionResultType]::ParameterName, 'Only users whose UniqueID, name, mail or title contains TEXT (ignoring case and accents)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N users [default: 50 in a table; every user in JSON]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Print every user')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;users;show' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;users;history' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;users;add' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'name')
            [CompletionResult]::new('--mail', '--mail', [CompletionResultType]::ParameterName, 'mail')
            [CompletionResult]::new('--title', '--title', [CompletionResultType]::ParameterName, 'title')
            [CompletionResult]::new('--phone', '--phone', [CompletionResultType]::ParameterName, 'phone')
            [CompletionResult]::new('--phone2', '--phone2', [CompletionResultType]::ParameterName, 'phone2')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded with the run, shown in history and reports)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;users;edit' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'name')
            [CompletionResult]::new('--mail', '--mail', [CompletionResultType]::ParameterName, 'mail')
            [CompletionResult]::new('--title', '--title', [CompletionResultType]::ParameterName, 'An empty value clears the title')
            [CompletionResult]::new('--phone', '--phone', [CompletionResultType]::ParameterName, 'An empty value clears the number')
            [CompletionResult]::new('--phone2', '--phone2', [CompletionResultType]::ParameterName, 'An empty value clears the number')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded with the run, shown in history and reports)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;users;remove' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why (recorded with the run, shown in history and reports)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;users;export' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;users;invite' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'With --uninvited: only the members of this group (Group ID or name)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('--resend', '--resend', [CompletionResultType]::ParameterName, 'Invite again even though an invitation was sent (or left in `sending` by a run that stopped)')
            [CompletionResult]::new('--pending', '--pending', [CompletionResultType]::ParameterName, 'Send every pending invitation, and list those a stopped run left in `sending`')
            [CompletionResult]::new('--uninvited', '--uninvited', [CompletionResultType]::ParameterName, 'Invite every active user that was never invited (imported before invitations were turned on, say)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;users;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List users (everyone unless filtered)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one user (USER is a UniqueID, a mail address, or the whole name of one user)')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'The audit log of one user (USER as for show)')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a manual user')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Edit a manual user, or the phone numbers of anyone')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a manual user')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write the directory in the import format')
            [CompletionResult]::new('invite', 'invite', [CompletionResultType]::ParameterValue, 'Send an invitation to USER (once, unless --resend), every pending one, or every user never invited')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'roster;users;help;list' {
            break
        }
        'roster;users;help;show' {
            break
        }
        'roster;users;help;history' {
            break
        }
        'roster;users;help;add' {
            break
        }
        'roster;users;help;edit' {
            break
        }
        'roster;users;help;remove' {
            break
        }
        'roster;users;help;export' {
            break
        }
        'roster;users;help;invite' {
            break
        }
        'roster;users;help;help' {
            break
        }
        'roster;sync' {
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Where the file comes from: sftp://user@host[:port]/path, a local path, or - for stdin')
            [CompletionResult]::new('--allow-creates', '--allow-creates', [CompletionResultType]::ParameterName, 'Release the churn safeguard of creates up to N for this run')
            [CompletionResult]::new('--allow-removals', '--allow-removals', [CompletionResultType]::ParameterName, 'Raise the removal safeguard to N for this run')
            [CompletionResult]::new('--allow-updates', '--allow-updates', [CompletionResultType]::ParameterName, 'Raise the update safeguard to N for this run')
            [CompletionResult]::new('--allow-invalid', '--allow-invalid', [CompletionResultType]::ParameterName, 'Raise the invalid-record safeguard to N for this run')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why this run is made (recorded with it, shown in history and reports)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Print at most N changes [default: 50 in a table; every change in JSON]')
            [CompletionResult]::new('--action', '--action', [CompletionResultType]::ParameterName, 'Only changes of this action (repeat, or separate with commas)')
            [CompletionResult]::new('--field', '--field', [CompletionResultType]::ParameterName, 'Only changes that set this field (repeat, or separate with commas)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print what would be done; store nothing, send nothing')
            [CompletionResult]::new('--allow-unknown-groups', '--allow-unknown-groups', [CompletionResultType]::ParameterName, 'Ignore memberships in unknown groups this run (import.unknown_groups = "block")')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Print every change')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;push' {
            [CompletionResult]::new('--allow-removals', '--allow-removals', [CompletionResultType]::ParameterName, 'Raise the removal safeguard to N deactivations or deletions for this push')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print what would be sent; send nothing, store nothing')
            [CompletionResult]::new('--full', '--full', [CompletionResultType]::ParameterName, 'Read the provider''s users and groups and put back whatever drifted')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;status' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;completions' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;man' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]')
            [CompletionResult]::new('--store', '--store', [CompletionResultType]::ParameterName, 'The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format, for commands that print data')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more about what is done (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'roster;help' {
            [CompletionResult]::new('fetch', 'fetch', [CompletionResultType]::ParameterValue, 'Store the source file as a new batch')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check an import file; with FILE or - it needs no store and writes nothing')
            [CompletionResult]::new('diff', 'diff', [CompletionResultType]::ParameterValue, 'Show the plan of the newest (or given) batch')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'Apply the plan of the newest (or given) batch')
            [CompletionResult]::new('revert', 'revert', [CompletionResultType]::ParameterValue, 'Undo one run from its audit rows, leaving later changes alone')
            [CompletionResult]::new('batches', 'batches', [CompletionResultType]::ParameterValue, 'The stored files')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Summarise runs')
            [CompletionResult]::new('groups', 'groups', [CompletionResultType]::ParameterValue, 'Manage groups')
            [CompletionResult]::new('users', 'users', [CompletionResultType]::ParameterValue, 'The directory')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Fetch, validate, diff, apply, send invitations and the report when due (for cron)')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'Bring the SCIM 2.0 provider of [scim] in step with the store')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Health for operators and monitoring; exit 1 when unhealthy')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'roster;help;fetch' {
            break
        }
        'roster;help;validate' {
            break
        }
        'roster;help;diff' {
            break
        }
        'roster;help;apply' {
            break
        }
        'roster;help;revert' {
            break
        }
        'roster;help;batches' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the stored files')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one batch')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write a batch''s bytes to standard output')
            break
        }
        'roster;help;batches;list' {
            break
        }
        'roster;help;batches;show' {
            break
        }
        'roster;help;batches;export' {
            break
        }
        'roster;help;report' {
            break
        }
        'roster;help;groups' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List groups with their member counts')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a group; with an ID it is managed by imports, without one by hand')
            [CompletionResult]::new('rename', 'rename', [CompletionResultType]::ParameterValue, 'Rename a group (GROUP is an ID or, for a manual group, a name)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a group; one with members needs --force')
            [CompletionResult]::new('members', 'members', [CompletionResultType]::ParameterValue, 'List members; --add/--remove change a manual group')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Read a CSV with a GroupID column and an optional Name column')
            break
        }
        'roster;help;groups;list' {
            break
        }
        'roster;help;groups;add' {
            break
        }
        'roster;help;groups;rename' {
            break
        }
        'roster;help;groups;remove' {
            break
        }
        'roster;help;groups;members' {
            break
        }
        'roster;help;groups;import' {
            break
        }
        'roster;help;users' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List users (everyone unless filtered)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one user (USER is a UniqueID, a mail address, or the whole name of one user)')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'The audit log of one user (USER as for show)')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a manual user')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Edit a manual user, or the phone numbers of anyone')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a manual user')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write the directory in the import format')
            [CompletionResult]::new('invite', 'invite', [CompletionResultType]::ParameterValue, 'Send an invitation to USER (once, unless --resend), every pending one, or every user never invited')
            break
        }
        'roster;help;users;list' {
            break
        }
        'roster;help;users;show' {
            break
        }
        'roster;help;users;history' {
            break
        }
        'roster;help;users;add' {
            break
        }
        'roster;help;users;edit' {
            break
        }
        'roster;help;users;remove' {
            break
        }
        'roster;help;users;export' {
            break
        }
        'roster;help;users;invite' {
            break
        }
        'roster;help;sync' {
            break
        }
        'roster;help;push' {
            break
        }
        'roster;help;status' {
            break
        }
        'roster;help;completions' {
            break
        }
        'roster;help;man' {
            break
        }
        'roster;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
