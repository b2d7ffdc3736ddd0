"""CLI failures: one line (or one line per config error) on stderr, no traceback."""
import click

EXIT_INVALID_CONFIG = 1
EXIT_UNREADABLE = 3
EXIT_DATAPLANE = 4
EXIT_NOT_RUNNING = 5


class ConfigInvalid(click.ClickException):
    exit_code = EXIT_INVALID_CONFIG

    def __init__(self, errors):
        super().__init__("\n".join(errors))
        self.errors = errors

    def show(self, file=None):
        for line in self.errors:
            click.echo(f"error: {line}", err=True)


class ConfigUnreadableError(click.ClickException):
    exit_code = EXIT_UNREADABLE


class DataPlaneFailed(click.ClickException):
    exit_code = EXIT_DATAPLANE


class InstanceNotRunning(click.ClickException):
    exit_code = EXIT_NOT_RUNNING
