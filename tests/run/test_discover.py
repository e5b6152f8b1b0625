"""The model of a loop that never calls it, found from the calling frames (netscope/engine/run/
discover.py), on real modules held in this test's own frame as a script holds them."""

from __future__ import annotations

from torch import nn

from netscope.engine.run.discover import Owners, model_of_parameters, owner_in_frames


class AutoEncoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 2), nn.ReLU())
        self.decoder = nn.Linear(2, 4)


class Holder(nn.Module):
    """A wrapper of one module (as DDP, torch.compile's wrapper or an EMA hold the live model)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module


class Steps(nn.Module):
    """A LightningModule-like parent whose step method calls its blocks itself."""

    def __init__(self) -> None:
        super().__init__()
        self.body = AutoEncoder()
        self.head = nn.Linear(4, 1)

    def owner_seen_by_step(self) -> nn.Module | None:
        return owner_in_frames(self.body.decoder)


def test_a_block_called_from_the_script_belongs_to_the_model_holding_it():
    model = AutoEncoder()
    assert owner_in_frames(model.encoder) is model
    assert owner_in_frames(model.encoder[0]) is model  # the largest holder
    assert owner_in_frames(model) is None  # the model itself has no owner


def test_wrappers_of_one_module_are_never_its_owner():
    model = AutoEncoder()
    ema = Holder(model)
    assert owner_in_frames(model) is None  # ema holds the model alone: model(x) is the model's
    assert owner_in_frames(model.decoder) is model  # not the wrapper around it
    assert ema.module is model


def test_the_method_running_the_step_owns_the_blocks_it_calls():
    parent = Steps()
    assert parent.owner_seen_by_step() is parent


def test_owners_count_one_call_of_the_model_per_step():
    model = AutoEncoder()
    owners = Owners()
    assert owners.owner(model.encoder) is model
    assert owners.owner(model.decoder) is model
    assert owners.leads(model.encoder, model) and not owners.leads(model.decoder, model)
    assert owners.known_owner(model.decoder) is model
    loss = nn.MSELoss()
    assert owners.owner(loss) is loss  # no parameters: its own


def test_a_model_only_a_compiled_step_calls_is_found_from_the_optimizers_parameters():
    model = AutoEncoder()
    other = nn.Linear(3, 3)
    ids = frozenset(id(p) for p in model.parameters())
    assert model_of_parameters(ids) is model  # not model.encoder: it holds fewer of them
    assert model_of_parameters(frozenset(id(p) for p in other.parameters())) is other
    assert model_of_parameters(frozenset()) is None
