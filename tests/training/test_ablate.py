"""The ablation harness: variants keep AdapterNet's function and the ONNX contract; a tiny run writes a table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch (the 'train' extra) is not installed")
pytest.importorskip("onnx", reason="onnx is needed to export the variants")
pytest.importorskip("onnxruntime", reason="onnxruntime is needed to time and evaluate the variants")

from rawjpeg_gui.training.ablate import (  # noqa: E402
    aggregate_table,
    load_variant,
    run_ablation,
    write_table,
)
from rawjpeg_gui.training.network import AdapterNet, NetConfig  # noqa: E402
from rawjpeg_gui.training.variants import VariantConfig, VariantNet, load_partial  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TINY = dict(thumbnail_size=16, lut_bins=33, shape_bins=8, widths=(8, 8, 8, 8), hidden=8)


def _perturbed(net: torch.nn.Module) -> torch.nn.Module:
    torch.manual_seed(1)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    return net.eval()


def test_variant_with_switches_off_is_adapternet() -> None:
    torch.manual_seed(0)
    ref = _perturbed(AdapterNet(NetConfig(**TINY, dct=True)))
    var = VariantNet(VariantConfig(**TINY, dct=True))
    rep = load_partial(var, ref.state_dict())
    assert not rep["new"] and not rep["partial"] and not rep["dropped"]
    thumb = torch.rand(3, 3, 16, 16) ** 3
    q = torch.tensor([[0.2], [0.6], [1.0]])
    with torch.no_grad():
        a, b = ref(thumb, q), var.eval()(thumb, q)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.mark.slow
@pytest.mark.parametrize(
    "switch",
    [
        {"eca": True},
        {"multiscale": True},
        {"dct": True},
        {"gamma_size": 8},
        {"gamma_size": 32},
        {"lut_basis": 3},
        {"lut_basis": 2, "lut_mix_side": 4},
        {"meta_input": True},
    ],
)
def test_new_switches_start_as_the_loaded_function(switch: dict) -> None:
    base = {**TINY, "thumbnail_size": 64}
    torch.manual_seed(0)
    ref = _perturbed(AdapterNet(NetConfig(**base)))
    var = VariantNet(VariantConfig(**base, **switch))
    load_partial(var, ref.state_dict())
    thumb = torch.rand(2, 3, 64, 64) ** 3
    q = torch.tensor([[0.3], [0.9]])
    with torch.no_grad():
        a, b = ref(thumb, q), var.eval()(thumb, q)
    assert torch.allclose(a["lut"], b["lut"], atol=1e-6)
    side = switch.get("gamma_size", 16)
    assert b["gamma_map"].shape == (2, side, side)
    if side == 16:
        assert torch.allclose(a["gamma_map"], b["gamma_map"], atol=1e-6)
    if "dct" in switch:
        assert torch.equal(b["dct_scale"], torch.ones_like(b["dct_scale"]))
    if "lut_basis" in switch:
        # Every extra curve starts as the LUT; the weights already vary across the frame
        # (so the curves can learn to differ) and sum to 1.
        k, side = switch["lut_basis"], switch.get("lut_mix_side", 8)
        assert b["lut_basis"].shape == (2, k - 1, 3, 33)
        assert torch.allclose(
            b["lut_basis"], b["lut"][:, None].expand_as(b["lut_basis"]), atol=1e-6
        )
        assert b["lut_mix"].shape == (2, k, side, side)
        assert torch.allclose(b["lut_mix"].sum(dim=1), torch.ones(2, side, side), atol=1e-6)
        assert float(b["lut_mix"].std()) > 1e-3


@pytest.mark.slow
def test_spatially_varying_lut_exports_and_codes_a_real_raw(tmp_path: Path) -> None:
    """The lut_basis variant learns curves that differ, exports the ``lutmix`` operator and
    codes a real raw through the file format exactly as the network predicted."""
    from realdata import SHARED_RAW, require

    from rawjpeg_gui.core import codec
    from rawjpeg_gui.core.errors import ModelError, UnsupportedVersion
    from rawjpeg_gui.core.model import AdapterModel
    from rawjpeg_gui.core.rawio import read_raw
    from rawjpeg_gui.training.export import export_net, max_parity_error
    from rawjpeg_gui.training.research import mixfile
    from rawjpeg_gui.training.research.model import ResearchModel

    torch.manual_seed(0)
    net = VariantNet(VariantConfig(**{**TINY, "thumbnail_size": 64}, lut_basis=3))
    with torch.no_grad():
        net.basis_head.bias.normal_(0.0, 1.0)  # curves that differ, as after training
    path = export_net(net.eval(), tmp_path / "mix.onnx", {"name": "tiny-mix"}, "4:2:0")
    assert max_parity_error(net, path) < 1e-4
    with pytest.raises(ModelError, match="lutmix"):
        AdapterModel(path)  # the runtime core runs only shipped operators
    model = ResearchModel(path)
    assert model.info.operators == ("lut", "lutmix", "gamma")
    raw = read_raw(require(SHARED_RAW / "dcc_kodak_dc120_p003908.kdc"))
    pred = model.predict(raw.data, 80)
    assert pred.params.lut_basis is not None and pred.params.lut_mix.shape == (3, 8, 8)
    assert np.abs(pred.params.lut_basis - pred.params.lut[None]).max() > 0.01
    res = mixfile.encode_image(raw, 80, model)
    rec = mixfile.decode_bytes(res.jpeg)
    assert rec.record.version == mixfile.MIX_FORMAT_VERSION
    assert np.array_equal(rec.params.lut_basis, mixfile.quantise(pred.params).lut_basis)
    with pytest.raises(UnsupportedVersion):
        codec.decode_bytes(res.jpeg)
    assert rec.raw.data.shape == raw.data.shape and np.isfinite(rec.raw.data).all()


def _tiny_raw(seed: int):  # type: ignore[no-untyped-def]
    from rawjpeg_gui.core.metadata import RawMeta
    from rawjpeg_gui.core.rawio import RawImage
    from rawjpeg_gui.training.data import synthetic_photo, unprocess

    img = unprocess(synthetic_photo(64, 80, seed), np.random.default_rng(seed))
    return RawImage(np.clip(img, 0, 1).astype(np.float32), RawMeta())


@pytest.mark.slow
def test_two_tiny_variants_write_a_table(tiny_cache: Path, tmp_path: Path) -> None:
    base = tmp_path / "base.toml"
    base.write_text(
        f'[data]\ncache = "{tiny_cache.as_posix()}"\nbatch = 2\ncrop = 32\n\n'
        "[model]\nthumbnail_size = 16\nlut_bins = 33\nshape_bins = 8\nwidths = [8, 8, 8, 8]\nhidden = 8\n\n"
        '[loss]\nsubsampling = "4:2:0"\n\n[train]\nlr = 1e-3\nwarmup = 1\n\n'
        '[export]\nname = "tiny-ablation"\n'
    )
    a = tmp_path / "baseline.toml"
    a.write_text(
        f'[ablation]\nname = "baseline"\ndescription = "tiny"\nbase = "{base.as_posix()}"\n'
    )
    b = tmp_path / "eca.toml"
    b.write_text(
        f'[ablation]\nname = "eca"\ndescription = "tiny + ECA"\nbase = "{base.as_posix()}"\n\n'
        "[model]\neca = true\n"
    )
    assert load_variant(b)["model"]["eca"] is True
    table = tmp_path / "ABLATIONS.md"
    table.write_text(
        "# Ablations\n\nintro\n\n<!-- ablate:table:start -->\nold\n<!-- ablate:table:end -->\n\nfindings\n"
    )
    raws = {"tiny_a": _tiny_raw(0), "tiny_b": _tiny_raw(1)}
    res = run_ablation(
        [a, b], tmp_path / "runs", table, steps=3, raws=raws, qualities=[20, 40, 60, 80], threads=1
    )
    assert [r["name"] for r in res] == ["baseline", "eca"]
    for r in res:
        assert r["steps"] == 3 and r["parity"] <= 1e-4
        assert r["inference_ms"] > 0 and r["payload_bytes"] > 0
        assert set(r["files"]) == {"tiny_a", "tiny_b"}
        assert (tmp_path / "runs" / r["name"] / "adapter.onnx").is_file()
    text = table.read_text()
    assert "| baseline |" in text and "| eca |" in text and "old" not in text
    assert text.startswith("# Ablations\n\nintro") and text.rstrip().endswith("findings")
    # Resuming skips finished variants.
    again = run_ablation(
        [a, b], tmp_path / "runs", None, steps=3, raws=raws, qualities=[20, 40, 60, 80]
    )
    assert [r["wall_s"] for r in again] == [r["wall_s"] for r in res]
    # Aggregating over run directories (one per seed): paired differences against the baseline.
    agg = aggregate_table([tmp_path / "runs", tmp_path / "runs"])
    assert "| baseline | 2 |" in agg and "| eca | 2 |" in agg
    assert "(2/2)" in agg or "(0/2)" in agg
    write_table(table, agg, section="seeds")
    text = table.read_text()
    assert "<!-- ablate:seeds:start -->" in text and "| eca | 2 |" in text
    assert "| eca | tiny + ECA |" in text  # the first table is kept
    # A variant that reuses the baseline's weights and exports them for the encoder's search.
    c = tmp_path / "search.toml"
    c.write_text(
        f'[ablation]\nname = "search"\nbase = "{base.as_posix()}"\nweights_from = "baseline"\n\n'
        "[export]\nsearch = true\n"
    )
    (found,) = run_ablation(
        [c], tmp_path / "runs", None, steps=3, raws=raws, qualities=[20, 40, 60, 80], threads=1
    )
    from rawjpeg_gui.core.model import AdapterModel

    assert found["steps"] == 3 and found["train_s"] == 0.0
    assert AdapterModel(tmp_path / "runs" / "search" / "adapter.onnx").info.rate_weight == (
        0.2,
        4.2,
        2.5,
    )
    assert AdapterModel(tmp_path / "runs" / "baseline" / "adapter.onnx").info.rate_weight is None
    # Reusing weights with other [model] switches would evaluate another network: refused.
    bad = tmp_path / "bad.toml"
    bad.write_text(
        f'[ablation]\nname = "bad"\nbase = "{base.as_posix()}"\nweights_from = "eca"\n\n'
        "[export]\nsearch = true\n"
    )
    with pytest.raises(SystemExit, match="does not fit"):
        run_ablation([bad], tmp_path / "runs", None, steps=3, raws=raws, qualities=[20, 40, 60, 80])


@pytest.mark.slow
def test_metadata_input_reaches_the_network_from_the_raw(tmp_path: Path) -> None:
    """A meta_input model exports the ``meta`` input; the codec feeds it the raw's own
    ISO, exposure and levels, so the same pixels with other metadata get other operators."""
    import dataclasses

    from realdata import SHARED_RAW, require

    from rawjpeg_gui.core import codec
    from rawjpeg_gui.core.rawio import read_raw
    from rawjpeg_gui.training.export import export_net, max_parity_error
    from rawjpeg_gui.training.research.inputs import meta_features
    from rawjpeg_gui.training.research.model import ResearchModel

    torch.manual_seed(0)
    net = _perturbed(VariantNet(VariantConfig(**{**TINY, "thumbnail_size": 64}, meta_input=True)))
    with torch.no_grad():
        net.meta_proj.weight.normal_(0.0, 2.0)  # as if trained to listen to it
    path = export_net(net.eval(), tmp_path / "meta.onnx", {"name": "tiny-meta"})
    assert max_parity_error(net, path) < 1e-4
    model = ResearchModel(path)
    assert model.uses_meta and not model.uses_noise
    raw = read_raw(require(SHARED_RAW / "dcc_canon_g2_0304.crw"))
    inputs = model.image_inputs(raw.data, raw.meta)
    assert np.array_equal(inputs.feeds["meta"][0], meta_features(raw.meta))
    high_iso = dataclasses.replace(raw, meta=dataclasses.replace(raw.meta, iso=6400.0))
    a = codec.encode_image(raw, 60, model, searched=False)
    b = codec.encode_image(high_iso, 60, model, searched=False)
    assert not np.array_equal(a.params.lut, b.params.lut)
    with torch.no_grad():
        want = net(
            torch.from_numpy(inputs.thumbnail.transpose(2, 0, 1).copy())[None],
            torch.tensor([[0.6]]),
            None,
            None,
            torch.from_numpy(inputs.feeds["meta"]),
        )["lut"][0].numpy()
    assert np.abs(model.predict(raw.data, 60, raw.meta).params.lut - want).max() < 1e-3


def test_cache_records_metadata_and_batches_raise_the_iso_with_exposure(
    tiny_cache: Path, tmp_path: Path
) -> None:
    from rawjpeg_gui.training.data import PatchCache, sample_batch
    from rawjpeg_gui.training.research.inputs import meta_features

    cache = PatchCache.load(tiny_cache)
    assert cache.meta is not None and cache.meta.shape == (len(cache.thumbs), 4)
    assert cache.meta[0, 0] > -0.01  # the unprocessed photo's shot noise: ISO >= 100
    assert cache.meta[0, 3] in {np.float32(np.log2(2.0**b - 1) / 16) for b in (10, 12, 14)}
    b = sample_batch(cache, 8, np.random.default_rng(0), min_exposure=0.05)
    flat = sample_batch(cache, 8, np.random.default_rng(0), augment=False)
    assert b["meta"].shape == (8, 4) and np.array_equal(
        flat["meta"][:, 0], cache.meta[cache.image_of[0], 0].repeat(8)
    )
    # An old cache (no metadata) loads with the defaults.
    old = tmp_path / "old.npz"
    np.savez(
        old,
        **{
            k: getattr(cache, k)
            for k in ("patches", "thumbs", "image_of", "offsets", "sizes", "names")
        },
    )
    assert np.array_equal(PatchCache.load(old).meta[0], meta_features(None))
