"""The trainer: one jitted train step over a device Mesh, Orbax resume, logging, evaluation.

The public API, used by `fnetlab train`, `fnetlab eval`, `fnetlab bench`, the experiments and
the tests alike:

  trainer = Trainer(config, workdir)        # workdir is needed by run() only
  state = trainer.init_state()
  state, metrics = trainer.train_step(state, trainer.batch(step))
  trainer.evaluate(state["params"], "validation")
  trainer.run()                             # train / resume to config.train.steps
  trainer.run(on_step=fn)                   # fn(step) after every step: pace or stop a run

- `Trainer.train_step` is THE train step: the pure `train_step` below with the model,
  optimiser, schedule, loss and accumulation count bound by functools.partial, jitted once with
  the state's shardings and the state donated. The dropout rng is `fold_in(state.rng, step)`.
  `fnetlab bench` lowers and times this very function (`trainer.train_step.lower(...)`).
- The mesh and the shardings come from fnetlab/train/sharding.py: mesh axes `data` and
  `fsdp` over `jax.devices()` (or the `devices` given, e.g. a TPU topology's abstract devices
  for `fnetlab compile`), the params' logical axis names mapped by the config key
  `mesh.rules`. The step is traced under the mesh, so the attention kernels are chosen for
  the platform it is compiled for.
- Metrics stay on device until a log step (or an eval / checkpoint step, which flushes first,
  so a non-finite loss is caught before anything is saved).
- The data order is a pure function of (seed, step) (`Trainer.batch`), so the checkpointed
  iterator state is the step and a resumed run is bit-identical.
- A workdir's record is the truth (`Trainer.check_workdir`): config.json holds the resolved
  config; a resume whose config differs in a key that can change the result is refused
  before anything is written; only the keys in `RESUMABLE_KEYS` may change, each change
  appended to history.jsonl; a finished run is never touched again, and a longer
  `train.steps` on it is the explicit `extend=True` (`fnetlab train --extend`).
- `results.json` keeps compilation apart: `compile_s` is the train step's compile time and
  `train_steps_per_sec` counts warm steps only (no compile, evaluation or checkpoint time).
- Ctrl-C stops a run with `Interrupted` (one line naming the last checkpoint; the CLI exits
  130); the run resumes from that checkpoint, bit-identical.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import orbax.checkpoint as ocp
from flax import linen as nn
from jax.experimental import multihost_utils

from fnetlab import tasks
from fnetlab.common import checkpoints
from fnetlab.common import workdir as files
from fnetlab.common.errors import Interrupted, UserError
from fnetlab.data.sources import eval_batches, local_slice, train_indices
from fnetlab.nn import attention
from fnetlab.train import optim
from fnetlab.train.logs import MetricLogger
from fnetlab.train.profile import StepProfiler, parse_steps
from fnetlab.train.sharding import (
  batch_sharding,
  global_batch,
  make_mesh,
  rules,
  state_shardings,
  with_mesh,
)

#: Config keys a resumed run may change: they set how often the run logs, saves and how it
#: batches evaluation, never what it trains or what it measures. Each change is appended to
#: the workdir's history.jsonl. `train.steps` may grow only with `extend=True`.
RESUMABLE_KEYS = (
  "train.log_every",
  "train.checkpoint_every",
  "train.keep_checkpoints",
  "train.async_checkpoints",
  "train.eval_batch_size",
  "train.profile_steps",
)


global_norm = (
  optax.tree.norm if hasattr(optax, "tree") and hasattr(optax.tree, "norm") else optax.global_norm
)


class TrainingDiverged(UserError):  # reported by the CLI as one line, exit 2
  pass


def check_finite(host: list[dict], last_step: int, note: str = "") -> None:
  """Raises TrainingDiverged naming the first of the `len(host)` steps ending at `last_step`
  whose training loss or gradient norm (host metrics) is not finite; `note` is appended."""
  for i, m in enumerate(host):
    if not (np.isfinite(m["train_loss"]) and np.isfinite(m["grad_norm"])):
      raise TrainingDiverged(
        f"non-finite loss or gradient at step {last_step - len(host) + i + 1}; stopped"
        + (f". {note}" if note else "")
      )


class ConfigMismatch(UserError):
  """A resumed (or skipped) run's config differs from its workdir's in a key that matters."""


def train_step(state, batch, *, model, tx, schedule, loss_fn, accum):
  """One optimiser step (with `accum` micro-batches). Pure: (state, batch) -> (state, metrics)."""
  rng = jax.random.fold_in(state["rng"], state["step"])

  def loss_of(params, mb, key):
    out = model.apply({"params": params}, mb, deterministic=False, rngs={"dropout": key})
    return loss_fn(out, mb)

  grad_fn = jax.value_and_grad(loss_of, has_aux=True)
  if accum == 1:
    (loss, aux), grads = grad_fn(state["params"], batch, rng)
  else:
    # Strided micro-batches: every device holds rows of every micro-batch.
    mbs = jax.tree.map(lambda x: x.reshape(-1, accum, *x.shape[1:]).swapaxes(0, 1), batch)

    def body(carry, xs):
      mb, i = xs
      (l, a), g = grad_fn(state["params"], mb, jax.random.fold_in(rng, i))
      return jax.tree.map(jnp.add, carry, (l, a, g)), None

    zeros = jax.tree.map(
      jnp.zeros_like,
      jax.eval_shape(grad_fn, state["params"], jax.tree.map(lambda x: x[0], mbs), rng),
    )
    (loss, aux, grads), _ = jax.lax.scan(
      body, (zeros[0][0], zeros[0][1], zeros[1]), (mbs, jnp.arange(accum))
    )
    loss, aux, grads = jax.tree.map(lambda x: x / accum, (loss, aux, grads))

  updates, opt_state = tx.update(grads, state["opt_state"], state["params"])
  params = optax.apply_updates(state["params"], updates)
  metrics = {
    "train_loss": loss,
    "grad_norm": global_norm(grads),
    "lr": schedule(state["step"]),
    **{f"train_{k}": v for k, v in aux.items()},
  }
  new_state = {
    "step": state["step"] + 1,
    "params": params,
    "opt_state": opt_state,
    "rng": state["rng"],
  }
  return new_state, metrics


def validate(config) -> None:
  t = config.train
  for key in ("steps", "batch_size", "log_every", "eval_every", "checkpoint_every", "grad_accum"):
    if int(t[key]) < 1:
      raise UserError(f"config key train.{key}={t[key]} must be >= 1")
  if t.batch_size % t.grad_accum:
    raise UserError(
      f"config key train.batch_size={t.batch_size} is not divisible by train.grad_accum={t.grad_accum}"
    )
  if t.best_mode not in ("max", "min"):
    raise UserError(f"config key train.best_mode={t.best_mode!r}; valid: max, min")
  parse_steps(t.get("profile_steps"))


class Trainer:
  """The task, the mesh, the jitted step and the evaluation of one config (module docstring).

  `workdir` is where `run()` writes checkpoints, logs and results; a Trainer that only steps
  or evaluates (the bench, the experiments, tests) needs none. `devices` (default
  `jax.devices()`) are the devices the mesh is laid over; with abstract devices (a TPU
  topology) the Trainer can only lower and compile its steps (`fnetlab.bench.aot`).
  """

  def __init__(
    self, config: ml_collections.ConfigDict, workdir: str | None = None, *, devices=None
  ):
    validate(config)
    self.config, self.workdir = config, workdir
    self.task = tasks.build(config)
    self.mesh = make_mesh(config.mesh, devices)
    n_dev = self.mesh.size
    n_proc = len({d.process_index for d in self.mesh.devices.flat})
    for key in ("batch_size", "eval_batch_size"):
      b = config.train[key]
      if b % n_dev or b % n_proc:
        raise UserError(f"config key train.{key}={b} must be divisible by the {n_dev} devices")
    self.tx, self.schedule = optim.build(config.optim, config.train.steps)
    model = self.task.model
    example = self.task.example_batch(config.train.batch_size // config.train.grad_accum)

    def init(rng):
      p_rng, d_rng, s_rng = jax.random.split(rng, 3)
      params = model.init({"params": p_rng, "dropout": d_rng}, example, deterministic=True)[
        "params"
      ]
      return {
        "step": jnp.asarray(0, jnp.int32),
        "params": params,
        "opt_state": self.tx.init(params),
        "rng": s_rng,
      }

    rng = jax.random.PRNGKey(config.seed)
    abstract = jax.eval_shape(init, rng)
    self.shardings = state_shardings(abstract, self.mesh, rules(config.mesh))
    self._init = jax.jit(lambda r: nn.unbox(init(r)), out_shardings=self.shardings)
    self._rng = rng
    self.abstract_state = nn.unbox(abstract)
    batch_spec = batch_sharding(self.mesh)
    step = functools.partial(
      train_step,
      model=model,
      tx=self.tx,
      schedule=self.schedule,
      loss_fn=self.task.loss_fn,
      accum=config.train.grad_accum,
    )
    # The one train step (see the module docstring); `.lower(state, batch)` compiles it ahead
    # of time with exactly the shardings and donation the training loop uses.
    self.train_step = jax.jit(
      with_mesh(step, self.mesh),
      in_shardings=(self.shardings, batch_spec),
      out_shardings=(self.shardings, None),
      donate_argnums=0,
    )

    def predict(params, batch):
      out = model.apply({"params": params}, batch, deterministic=True)
      return self.task.predict_fn(out, batch)

    # The eval step: the task's predictions on a batch, as `evaluate` runs it.
    self.predict_step = jax.jit(
      with_mesh(predict, self.mesh), in_shardings=(self.shardings["params"], batch_spec)
    )
    self._example = example

  # ----------------------------------------------------------------------------- shapes

  def abstract_inputs(self, eval_batch: bool = False):
    """(state, batch) as ShapeDtypeStructs with this run's shardings: what `train_step` (or,
    with `eval_batch`, `predict_step` with the params) is lowered for, no array allocated."""
    rows = self.config.train["eval_batch_size" if eval_batch else "batch_size"]
    spec = batch_sharding(self.mesh)
    batch = {
      k: jax.ShapeDtypeStruct((rows,) + v.shape[1:], v.dtype, sharding=spec)
      for k, v in self._example.items()
    }
    state = jax.tree.map(
      lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s),
      self.abstract_state,
      self.shardings,
    )
    return state, batch

  def kernels(self, train: bool = True) -> str:
    """The attention kernel(s) the train step (or, `train=False`, the eval step) uses,
    '+'-joined ('' without attention): the mixers' own record (fnetlab/nn/attention/), read
    by tracing the forward once under this run's mesh."""
    with jax.sharding.use_abstract_mesh(self.mesh.abstract_mesh):
      return attention.kernels_used(
        self.task.model, {"params": self.abstract_state["params"]}, self._example, train=train
      )

  # ----------------------------------------------------------------------------- state

  def init_state(self):
    """The initial sharded state {step, params, opt_state, rng} (params from `init_from` if set)."""
    state = self._init(self._rng)
    if self.config.init_from:
      state = self._load_init_from(state)
    return state

  def _load_init_from(self, state):
    """Copies matching params (by tree path and shape) from another workdir; the head stays fresh.

    `init_from` is `WORKDIR` (its latest checkpoint) or `WORKDIR@best` / `WORKDIR@<step>`.
    An embedding table with more rows than the model's (a self-pretraining vocabulary's
    [MASK] id, fnetlab/tasks/spt.py) gives the model its first rows."""
    where, step_arg = files.split_at(self.config.init_from)
    src, step = checkpoints.load_params(where, step_arg)
    flat_src = {jax.tree_util.keystr(k): v for k, v in jax.tree_util.tree_flatten_with_path(src)[0]}
    copied, new_params = [], []

    def pick(path, x):
      key = jax.tree_util.keystr(path)
      if key in flat_src:
        value = np.asarray(flat_src[key])
        if key.endswith("['embedding']") and value.shape[1:] == x.shape[1:]:
          value = value[: x.shape[0]] if value.shape[0] >= x.shape[0] else value
        if tuple(value.shape) != tuple(x.shape):
          raise UserError(
            f"init_from {self.config.init_from}: param {key} has shape {flat_src[key].shape}, model needs {x.shape}"
          )
        copied.append(key)
        return jax.device_put(value.astype(x.dtype), x.sharding)
      new_params.append(key)
      return x

    params = jax.tree_util.tree_map_with_path(pick, state["params"])
    if not copied:
      raise UserError(f"init_from {self.config.init_from}: no parameter matches this model")
    logging.info(
      "init_from %s step %d: %d tensors copied, %d fresh: %s",
      self.config.init_from,
      step,
      len(copied),
      len(new_params),
      new_params,
    )
    return {**state, "params": params}

  def restore(self, mngr, step):
    """Restores the full state at `step` with this run's shardings."""
    target = jax.tree.map(
      lambda a, s: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=s),
      self.abstract_state,
      self.shardings,
    )
    restored = mngr.restore(
      step,
      args=ocp.args.Composite(state=ocp.args.StandardRestore(target), data=ocp.args.JsonRestore()),
    )
    return restored["state"], restored["data"]

  def restore_latest(self, mngr):
    """Latest readable checkpoint. A corrupt one is moved aside with a warning and the previous
    one tried; one that does not fit this config (changed model or optimiser) is an error and
    is left untouched."""
    expected = checkpoints.shapes_by_path(self.abstract_state)
    for step in sorted(mngr.all_steps(), reverse=True):
      try:
        saved = checkpoints.saved_shapes(mngr, step)
      except Exception:  # unreadable metadata: a damaged checkpoint
        saved = None
      if saved is not None and saved != expected:
        key = sorted(set(saved) ^ set(expected)) or [k for k in expected if saved[k] != expected[k]]
        where = key[0]
        detail = f"saved {saved.get(where, 'absent')}, this config {expected.get(where, 'absent')}"
        raise UserError(
          f"checkpoint {checkpoints.checkpoint_dir(self.workdir)}/{step} does not fit this config "
          f"(model or optimiser settings changed?): {where}: {detail}"
        )
      try:
        if saved is None:
          raise ValueError("unreadable metadata")
        with checkpoints.quiet_io():  # a damaged one: one warning line, not a dump
          return self.restore(mngr, step)
      except Exception as e:  # orbax/tensorstore raise many types for damaged files
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        logging.warning("checkpoint at step %d is unreadable (%s)", step, first)
        print(
          f"warning: checkpoint step {step} in {checkpoints.checkpoint_dir(self.workdir)} is "
          "unreadable; trying the previous one",
          flush=True,
        )
        mngr.wait_until_finished()
        if jax.process_index() == 0:
          checkpoints.remove_step(self.workdir, step)
        mngr.reload()
    return None, None

  # ----------------------------------------------------------------------------- evaluation

  def evaluate(self, params, split: str, max_examples: int | None = None) -> dict:
    """Metrics of `params` on `split`: its first `max_examples` examples (default
    `train.max_eval_examples`; -1: the whole split)."""
    if max_examples is None:
      max_examples = self.config.train.max_eval_examples
    src = self.task.splits.get(split)
    if src is None:
      raise UserError(
        f"task {self.task.name} has no split {split!r}; has {', '.join(self.task.splits)}"
      )
    bs = self.config.train.eval_batch_size
    outs, weights = [], []
    for batch in eval_batches(src, bs, max_examples):
      local = {k: v[local_slice(bs)] for k, v in batch.items()}
      pred = self.predict_step(params, global_batch(local, self.mesh))
      pred = multihost_utils.process_allgather(pred, tiled=True)
      outs.append(jax.tree.map(np.asarray, pred))
      weights.append(batch["weight"])
    w = np.concatenate(weights) > 0
    arrays = {k: np.concatenate([o[k] for o in outs])[w] for k in outs[0]}
    return {k: float(v) for k, v in self.task.metrics_fn(arrays).items()}

  # ----------------------------------------------------------------------------- training

  def batch(self, step: int) -> dict:
    """The global batch of `step`, as global jax Arrays: this process reads only its own rows
    of the (seed, step)-determined order, exactly as `run()` feeds `train_step`."""
    size = self.config.train.batch_size
    src = self.task.splits["train"]
    idx = train_indices(len(src), self.config.seed, step, size)[local_slice(size)]
    return global_batch(src.batch(idx), self.mesh)

  # ----------------------------------------------------------------------------- the record

  def resolved_config(self) -> dict:
    """The config as trained, for config.json: every model key the config leaves None (the
    dimensions a `size` gives, say) filled with the built model's value."""
    out = self.config.to_dict()
    spec = getattr(self.task.model, "spec", None)
    for key, value in (out.get("model") or {}).items():
      if value is None and getattr(spec, key, None) is not None:
        out["model"][key] = getattr(spec, key)
    return out

  def check_workdir(self, extend: bool = False) -> str:
    """'new', 'resume' or 'finished' for this config in `self.workdir`; nothing is written.

    A workdir with a config.json must match this config in every key but `RESUMABLE_KEYS`,
    and in `train.steps` unless `extend` (which may only lengthen the run); anything else
    is a ConfigMismatch naming the key with its saved and new values."""
    workdir = self.workdir
    if workdir is None or not files.has_config(workdir):
      return "new"
    saved = files.read_config(workdir)
    raw = self.config.to_dict().get("model") or {}
    changes = [
      (key, old, new)
      for key, old, new in files.config_changes(saved, self.resolved_config())
      # a config.json from before dimensions were resolved: None there is the same default
      if not (old is None and key.startswith("model.") and raw.get(key[6:], 0) is None)
    ]
    where = files.path(workdir, files.CONFIG)
    blocking = [c for c in changes if c[0] not in RESUMABLE_KEYS and c[0] != "train.steps"]
    if blocking:
      key, old, new = blocking[0]
      more = f" (and {len(blocking) - 1} more key(s))" if len(blocking) > 1 else ""
      raise ConfigMismatch(
        f"config key {key}: saved {old!r} in {where}, new {new!r}{more}; a resumed run must "
        "keep its config: use the saved value or a new --workdir"
      )
    steps = next((c for c in changes if c[0] == "train.steps"), None)
    done = files.has_results(workdir) and files.read_results(workdir).get("step") == int(
      saved.get("train", {}).get("steps", -1)
    )
    if steps is not None:
      _, old, new = steps
      if not extend or int(new) < int(old):
        hint = "pass --extend to train on" if int(new) > int(old) else "a run cannot be shortened"
        raise ConfigMismatch(
          f"config key train.steps: saved {old!r} in {where}, new {new!r}; {hint} (or use a "
          "new --workdir)"
        )
      return "resume"
    return "finished" if done else "resume"

  def _record_start(self, status: str, start: int) -> None:
    """Writes config.json and history.jsonl for a run that (re)starts at `start`."""
    workdir, new = self.workdir, self.resolved_config()
    if status == "new" or not files.has_config(workdir):
      files.write_config(workdir, new)
      files.append_history(workdir, "start", step=start)
      return
    saved = files.read_config(workdir)
    for key, old, value in files.config_changes(saved, new):
      if key == "train.steps":
        files.append_history(workdir, "extend", step=start, saved=old, new=value)
      elif key in RESUMABLE_KEYS:
        files.append_history(workdir, "change", step=start, key=key, saved=old, new=value)
    if saved != json.loads(json.dumps(new, default=str)):
      files.write_config(workdir, new)
    files.append_history(workdir, "resume", step=start)

  # ----------------------------------------------------------------------------- training

  def run(self, *, extend: bool = False, on_step=None) -> dict:
    """Trains (resuming from the workdir's latest checkpoint) to `train.steps`, evaluating and
    checkpointing on schedule; writes config.json, history.jsonl, metrics.jsonl and
    results.json, and returns the results. A finished run is left as it is: one line is
    printed and its saved results returned (`extend=True` lets a longer `train.steps`
    continue it). `on_step(step)` is called after every step (outside the timed region),
    e.g. to pace a run or stop it by raising KeyboardInterrupt."""
    cfg, workdir = self.config, self.workdir
    if workdir is None:
      raise ValueError("Trainer.run() needs a workdir: Trainer(config, workdir)")
    is_main = jax.process_index() == 0
    status = self.check_workdir(extend)  # before anything in the workdir is written
    self.status = status
    if status == "finished":
      results = files.read_results(workdir)
      if is_main:
        print(f"finished at step {results['step']}; nothing to do ({workdir})", flush=True)
      return results
    t = cfg.train
    t_start = time.perf_counter()
    os.makedirs(workdir, exist_ok=True)
    mngr = checkpoints.manager(
      workdir,
      keep=t.keep_checkpoints,
      best_metric=t.best_metric,
      best_mode=t.best_mode,
      async_save=t.async_checkpoints,
    )
    state, _ = self.restore_latest(mngr)
    start = 0 if state is None else int(state["step"])
    if state is None:
      state = self.init_state()
    elif is_main:
      print(f"resuming from step {start} ({checkpoints.checkpoint_dir(workdir)})", flush=True)
    if is_main:
      self._record_start(status, start)
    n_params = checkpoints.tree_size(self.abstract_state["params"])
    logger = MetricLogger(workdir, total=t.steps, initial=start, enabled=is_main)
    profiler = StepProfiler(parse_steps(t.get("profile_steps")), files.path(workdir, files.PROFILE))
    val_metrics, compile_s, first_step_s, step_fn = {}, None, None, self.train_step
    if start < t.steps:  # compiled ahead of the loop, so no step's time includes compilation
      t_compile = time.perf_counter()
      step_fn = self.train_step.lower(state, self.batch(start)).compile()
      compile_s = time.perf_counter() - t_compile
    # The speed counts warm steps: the session's first step (first execution, allocations)
    # is timed on its own as `first_step_s`.
    pending, t_last, s_last, train_time = [], time.perf_counter(), start + 1, 0.0
    saved_step = start if start else None

    def flush(step):
      nonlocal pending, t_last, s_last, train_time
      if not pending:
        return
      host = jax.device_get(pending)
      check_finite(
        host, step, f"The last good checkpoint in {checkpoints.checkpoint_dir(workdir)} is intact"
      )
      mean = {k: float(np.mean([m[k] for m in host])) for k in host[0]}
      elapsed = time.perf_counter() - t_last
      train_time += elapsed
      if step > s_last:  # (a log of the session's first step alone has no warm step)
        mean["steps_per_sec"] = (step - s_last) / max(elapsed, 1e-9)
      logger.log(step, mean)
      pending, t_last, s_last = [], time.perf_counter(), step

    step = start
    try:
      for step in range(start, t.steps):
        with profiler.step(step + 1) as keep:  # train.profile_steps (fnetlab/train/profile.py)
          state, metrics = step_fn(state, self.batch(step))
          keep((state, metrics))
        pending.append(metrics)
        s = step + 1
        if step == start:
          jax.block_until_ready(state)
          first_step_s = time.perf_counter() - t_last
          t_last = time.perf_counter()
        do_eval = s % t.eval_every == 0 or s == t.steps
        do_ckpt = s % t.checkpoint_every == 0 or s == t.steps
        if s % t.log_every == 0 or do_eval or do_ckpt:
          flush(s)
        t_pause = time.perf_counter()  # evaluation, checkpoints and on_step are not training
        if do_eval:
          val_metrics = self.evaluate(state["params"], "validation")
          logger.log(s, {f"val_{k}": v for k, v in val_metrics.items()}, progress=False)
          if is_main and t.best_metric in val_metrics:
            files.update_best(workdir, s, t.best_metric, val_metrics[t.best_metric], t.best_mode)
        if do_ckpt:
          mngr.save(
            s,
            args=ocp.args.Composite(
              state=ocp.args.StandardSave(state),
              data=ocp.args.JsonSave({"step": s, "seed": cfg.seed}),
            ),
            metrics=val_metrics if do_eval and t.best_metric in val_metrics else None,
          )
          saved_step = s
        if on_step is not None:
          on_step(s)
        t_last += time.perf_counter() - t_pause
      mngr.wait_until_finished()
    except KeyboardInterrupt:
      if is_main:
        files.append_history(workdir, "interrupted", step=step, checkpoint=saved_step)
      where = checkpoints.checkpoint_dir(workdir)
      kept = (
        f"the last checkpoint is step {saved_step} in {where}"
        if saved_step
        else "no checkpoint was saved yet, so the run will start again from step 0"
      )
      raise Interrupted(f"interrupted during step {step + 1}; {kept}") from None
    finally:
      profiler.close()
      mngr.wait_until_finished()
      logger.close()

    if not val_metrics and "validation" in self.task.splits:  # resumed at the last step
      val_metrics = self.evaluate(state["params"], "validation")
    test_metrics = self.evaluate(state["params"], "test") if "test" in self.task.splits else {}
    trained = t.steps - start
    warm = trained - 1  # every step of the session but its first
    results = {
      "task": self.task.name,
      "mixer": cfg.model.mixer,
      "step": int(state["step"]),
      "params": n_params,
      "compile_s": compile_s,
      "first_step_s": first_step_s,
      "train_steps": trained,  # steps of this session (the speed is of its warm steps)
      "train_steps_per_sec": warm / train_time if warm > 0 and train_time else None,
      "validation": val_metrics,
      "test": test_metrics,
      "best": files.read_best(workdir),
      "wall_time_s": time.perf_counter() - t_start,
    }
    if is_main:
      files.write_results(workdir, results)
      files.append_history(workdir, "finished", step=results["step"])
    return results


def train_and_evaluate(config, workdir: str, *, extend: bool = False, on_step=None) -> dict:
  """`fnetlab train`: validates the config, then trains / resumes in `workdir` (see
  `Trainer.run`)."""
  trainer = Trainer(config, workdir)  # validates everything before the workdir is touched
  return trainer.run(extend=extend, on_step=on_step)
