"""The restricted pickle reader: plain data out, callables named but never imported or called."""

import os
import pickle
import pickletools

import numpy as np
import pytest

from detection.detectors.pickle_reader import DATA_CALLABLES, Call, PickleUnreadable, read_pickle

DFL_LIKE = {
    "face_type": "whole_face",
    "landmarks": np.arange(136, dtype=np.float32).reshape(68, 2) / 3,
    "source_filename": "00042.png",
    "source_rect": (10, 20, 210, 220),
    "image_to_face_mat": np.eye(2, 3),
    "eyebrows_expand_mod": 1.0,
    "xseg_mask": None,
    "flags": [True, False],
    "big": 10**30,
    "blob": b"\x00\x01\x02",
}


class Payload:
    """Unpickling this would run ``os.system`` with a command that leaves a marker file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_plain_data_and_numpy_arrays_are_read_in_every_protocol(protocol):
    reading = read_pickle(pickle.dumps(DFL_LIKE, protocol=protocol))
    value = reading.value
    assert value["face_type"] == "whole_face" and value["source_filename"] == "00042.png"
    assert value["source_rect"] == (10, 20, 210, 220) and value["big"] == 10**30
    assert value["xseg_mask"] is None and value["flags"] == [True, False] and value["blob"] == b"\x00\x01\x02"
    np.testing.assert_array_equal(value["landmarks"], DFL_LIKE["landmarks"])
    np.testing.assert_array_equal(value["image_to_face_mat"], DFL_LIKE["image_to_face_mat"])
    assert all(c.removesuffix(".__setstate__") in DATA_CALLABLES for c in reading.calls)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_malicious_reduce_is_reported_and_not_executed(tmp_path, protocol):
    marker = tmp_path / "executed"
    data = pickle.dumps({"face_type": "whole_face", "x": Payload(str(marker))}, protocol=protocol)
    assert any(op.name == "REDUCE" for op, _arg, _pos in pickletools.genops(data))

    reading = read_pickle(data)

    assert not marker.exists()
    assert "posix.system" in reading.calls or "nt.system" in reading.calls
    call = reading.value["x"]
    assert isinstance(call, Call) and call.args == (f"touch {marker}",)


@pytest.mark.parametrize(
    "data", [b"", b"garbage", pickle.dumps(DFL_LIKE)[:40], b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00)"]
)
def test_unreadable_bytes_raise_a_clear_error(data):
    with pytest.raises(PickleUnreadable):
        read_pickle(data)
