"""The typer apps every command module attaches to (one module per pipeline area), and the one place bad
input becomes an error line: commands and library code raise :class:`~mathwright.io.InputError` (or a
click usage error, or an ``OSError`` naming a path) and :class:`Group` prints ``error: ...`` and exits 2."""
from __future__ import annotations

import contextlib
import errno
from typing import Any, Iterator, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

try:  # typer vendors its own click (its exceptions are not the click package's)
    from typer._click import Context
    from typer._click.exceptions import NoArgsIsHelpError, UsageError
except ImportError:  # older typer: the click package itself
    from click import Context, UsageError  # type: ignore[assignment]
    from click.exceptions import NoArgsIsHelpError  # type: ignore[assignment]

from mathwright import __version__
from mathwright.io import InputError

err = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` to stderr and exit with ``code`` (2 = bad usage or input)."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextlib.contextmanager
def input_errors(ctx: Context) -> Iterator[None]:
    """Turn bad input raised below into one ``error:`` line and exit 2; anything else (a bug) propagates."""
    try:
        yield
    except NoArgsIsHelpError:
        raise  # `mathwright generate` alone: typer prints the help
    except UsageError as e:  # a bad option value, a missing argument, an unknown command
        where = e.ctx.command_path if e.ctx is not None else ctx.command_path
        fail(f"{where}: {e.format_message()} (see --help)")
    except InputError as e:
        fail(str(e))
    except OSError as e:  # an unwritable or unreadable path the code did not anticipate
        if e.filename is None or e.errno == errno.EPIPE:
            raise
        fail(f"{e.filename}: {e.strerror or e}")


class Group(TyperGroup):
    """A typer group whose parsing and commands report bad input through :func:`input_errors`."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        with input_errors(ctx):
            return super().parse_args(ctx, args)

    def invoke(self, ctx: Context) -> Any:
        with input_errors(ctx):
            return super().invoke(ctx)


app = typer.Typer(
    name="mathwright",
    help="Teach language models to compute, and prove it by measurement.",
    cls=Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
generate_app = typer.Typer(help="Generate datasets (goat, caef, word-problems, mathinstruct).", no_args_is_help=True)
sandbox_app = typer.Typer(help="Run model-written programs under limits.", no_args_is_help=True)
app.add_typer(generate_app, name="generate")
app.add_typer(sandbox_app, name="sandbox")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"mathwright {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """Teach language models to compute, and prove it by measurement."""
