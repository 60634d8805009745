"""finsam-workflow: workflow and case management for Swedish samordningsförbund."""

__version__ = "0.1.0"
