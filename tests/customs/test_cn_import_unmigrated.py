from lane_controller.cli import main


def test_import_into_unmigrated_database_says_what_to_do(tmp_path, capsys):
    path = tmp_path / "cns.jsonl"
    path.write_text("{}\n", encoding="utf-8")
    status = main(["--db", f"sqlite:///{tmp_path / 'new.db'}", "cn", "import", str(path)])
    assert status == 3  # the database is not ready: an environment problem, not bad input
    assert "run `lane-controller db upgrade` first" in capsys.readouterr().err
