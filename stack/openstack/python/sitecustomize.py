"""Makes the stack's fake hypervisor importable as nova.virt.hpcb_fake.

Nova loads compute drivers only from the nova.virt package (compute_driver is prefixed with
"nova.virt."), and the stack must not write into Debian's nova. This finder answers for that
one name with the module hpcb_nova_fake from this folder. The import happens lazily, when Nova
asks for the driver, so it comes after Nova's eventlet monkey patching.
"""

import importlib
import importlib.abc
import importlib.util
import sys

_ALIASES = {"nova.virt.hpcb_fake": "hpcb_nova_fake"}


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _ALIASES:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        return importlib.import_module(_ALIASES[spec.name])

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _AliasFinder())
