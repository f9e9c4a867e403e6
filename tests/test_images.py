import numpy as np
import pytest
import torch

from gan_core.io.images import grid, to_uint8


def test_to_uint8_scales_clamps_and_keeps_or_moves_channels():
    x = torch.tensor([-2.0, -1.0, 0.0, 1.0, 3.0]).reshape(1, 1, 1, 5).repeat(2, 3, 4, 1)
    nhwc, nchw = to_uint8(x), to_uint8(x, layout="NCHW")
    assert nhwc.shape == (2, 4, 5, 3) and nchw.shape == (2, 3, 4, 5)
    assert nchw.dtype == np.uint8 and nchw[0, 0, 0].tolist() == [0, 0, 128, 255, 255]
    assert np.array_equal(nhwc, nchw.transpose(0, 2, 3, 1))
    assert np.array_equal(to_uint8(nchw, layout="NCHW"), nchw)  # uint8 passes through


def test_to_uint8_refuses_an_unknown_layout():
    with pytest.raises(ValueError, match="layout"):
        to_uint8(torch.zeros(1, 1, 2, 2), layout="HWC")


def test_grid_of_stored_nchw_snapshots_matches_grid_of_floats():
    x = torch.rand(4, 1, 6, 6) * 2 - 1
    assert np.array_equal(grid(to_uint8(x, layout="NCHW"), nrow=2), grid(x, nrow=2))
