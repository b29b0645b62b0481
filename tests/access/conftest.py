from tests.access.world import module_world, world  # noqa: F401 (fixtures)
