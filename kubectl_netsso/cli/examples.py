"""``kubectl netsso examples [DIR]``: write the example clusters shipped with the plugin into a folder."""

from __future__ import annotations

import shlex
from pathlib import Path

import click


@click.command("examples")
@click.argument("directory", metavar="[DIR]", required=False, default="examples", type=click.Path(file_okay=False))
def examples(directory: str) -> int:
    """Write the example clusters (manifests and --expect files) into DIR (default: ./examples).

    They are also readable in place, without writing anything, as --manifests example:shop and
    --expect example:shop-expect.yaml.

    \b
    Example:
      kubectl netsso examples
      kubectl netsso can-reach frontend/deploy/web shop/svc/api --port 80 --manifests examples/shop
    """
    from ..cluster.examples import write_out

    for path in write_out(Path(directory)):
        count = sum(1 for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0
        click.echo(f"wrote {shlex.quote(str(path))}" + (f"/ ({count} files)" if path.is_dir() else ""))
    return 0
