from tests.support import World, drive_happy_path


def test_an_idea_becomes_an_implemented_insats(world: World) -> None:
    ref = world.idea()
    view = drive_happy_path(world, ref)
    assert view.state == "avslutad_implementerad"
