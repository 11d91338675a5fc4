"""The ``transferlearn`` command in this process: predict on a comparison's folder."""


def test_predict_on_a_comparison_uses_its_auto_bundle_or_lists_the_bundles(base_bundle,
                                                                           tmp_path, capsys):
    import shutil

    from transferlearn.cli.predict import predict_main

    comparison = tmp_path / "cmp"
    for name in ("fine-tune", "scratch"):
        shutil.copytree(base_bundle, comparison / name)
    (tmp_path / "in.txt").write_text("a fine film\nawful\n")
    assert predict_main(["--bundle", str(comparison), "--input", str(tmp_path / "in.txt")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {comparison} is not a bundle but holds 2: {comparison}/fine-tune, "
                   f"{comparison}/scratch; pass one with --bundle")
    shutil.copytree(base_bundle, comparison / "auto")
    assert predict_main(["--bundle", str(comparison), "--input", str(tmp_path / "in.txt")]) == 0
    captured = capsys.readouterr()
    assert (f"using {comparison}/auto, chosen by cross-validation on the labelled rows; "
            f"--bundle {comparison}/fine-tune etc. for another") in captured.err
    assert captured.out.splitlines()[0].startswith("text,label,p_")
    assert len(captured.out.splitlines()) == 3
