"""Results against the plan: indicator periods with their progress and findings, listed
(`listing`) and rolled up (`summary`); the progress rule and finding codes are in `progress`."""
