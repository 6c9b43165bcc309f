"""Rec. 601 luma weights of RGB, shared by every statistic that reads brightness."""
import numpy as np

LUMA = np.array([0.299, 0.587, 0.114])
