"""Data preprocessing utilities with Keras' names: pad_sequences (sequence), the datasets made
from folders of files (directory) and from a time series (timeseries), and Dataset with
split_dataset (dataset), and single images (image: load_img, img_to_array, array_to_img, save_img).
They are also exported from tinydl.utils, as in keras.utils."""

from tinydl.preprocessing import image, sequence
from tinydl.preprocessing.dataset import Dataset, split_dataset
from tinydl.preprocessing.directory import image_dataset_from_directory, text_dataset_from_directory
from tinydl.preprocessing.image import array_to_img, img_to_array, load_img, save_img
from tinydl.preprocessing.sequence import pad_sequences
from tinydl.preprocessing.timeseries import timeseries_dataset_from_array

__all__ = ["image", "sequence", "Dataset", "split_dataset", "pad_sequences", "image_dataset_from_directory",
           "text_dataset_from_directory", "timeseries_dataset_from_array", "load_img", "img_to_array",
           "array_to_img", "save_img"]
