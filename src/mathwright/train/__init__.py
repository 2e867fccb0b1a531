"""Training: supervised fine-tuning (TRL SFTTrainer) and verifiers."""
