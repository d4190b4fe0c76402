"""The commands dvc.yaml's stages run, one module each: `python -m stages.commands.<module> ...`.

A stage's code deps are the import closure of its own module (tests/code/test_deps.py), so adding or
editing a command here or in stages/cli.py does not make the other stages look changed. stages/cli.py
registers the same functions under the same names for `slmbench <command>`.
"""
