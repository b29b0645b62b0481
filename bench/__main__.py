import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> None:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])
                   if not m.name.startswith("_"))
    if len(sys.argv) < 2 or sys.argv[1] not in names:
        print("usage: python -m bench NAME [options]\nbenchmarks: " + ", ".join(names))
        raise SystemExit(0 if len(sys.argv) < 2 else 2)
    name = sys.argv[1]
    sys.argv = [f"python -m bench {name}", *sys.argv[2:]]
    importlib.import_module(f"bench.{name}").main()


main()
