"""Package discovery: the root folders keep their short names in the repository but install under
one package, ``videolake.<folder>``; every folder below them is found, never listed by hand, data
folders such as trainer/configs included (as namespace packages: setuptools warns about a folder
it ships as data but was not told is a package)."""

from setuptools import find_namespace_packages, setup

ROOTS = {
    "videolake": "videolake",
    "videolake.pipeline": "pipeline",
    "videolake.commands": "commands",
    "videolake.generators": "generators",
    "videolake.schemas": "schemas",
    "videolake.manifests": "manifests",
    "videolake.rewards": "rewards",
    "videolake.trainer": "trainer",  # imports torch: only with the `train` extra
}

packages = [
    name
    for root, folder in ROOTS.items()
    for name in [root, *(f"{root}.{sub}" for sub in find_namespace_packages(folder))]
]
setup(packages=packages, package_dir=ROOTS)
