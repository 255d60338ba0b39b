"""Data preprocessing utilities with Keras' names: pad_sequences (sequence), the datasets made
from folders of files (directory) and from a time series (timeseries), and Dataset with
split_dataset (dataset). They are also exported from tinydl.utils, as in keras.utils."""

from tinydl.preprocessing import sequence
from tinydl.preprocessing.dataset import Dataset, split_dataset
from tinydl.preprocessing.directory import image_dataset_from_directory, text_dataset_from_directory
from tinydl.preprocessing.sequence import pad_sequences
from tinydl.preprocessing.timeseries import timeseries_dataset_from_array

__all__ = ["sequence", "Dataset", "split_dataset", "pad_sequences", "image_dataset_from_directory",
           "text_dataset_from_directory", "timeseries_dataset_from_array"]
