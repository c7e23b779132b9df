"""The entry point of the `pravis-api` console script.

Speech worker processes are spawned, and a spawned process first imports
the script that started its parent. Through this module that import is
small: the command line, with pydantic and the settings, is imported only
when the command runs. Imported at the top, it made every speech
worker about 27 MB larger.
"""


def main() -> None:
    from pravis_api.cli import main as run_command

    run_command()
