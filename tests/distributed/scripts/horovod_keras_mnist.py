# Horovod's examples/keras/keras_mnist.py (https://github.com/horovod/horovod, Apache License 2.0,
# the script shown in Horovod's docs/keras.rst), run on tinydl. What changed, and nothing else:
#   - the imports: keras -> tinydl, horovod.keras -> tinydl.distributed, the MNIST loader ->
#     tinydl's bundled MNIST sample (no download); tensorflow and keras.backend are not needed;
#   - the four lines pinning a GPU per local rank are gone (tinydl runs on CPUs), and so is the
#     channels_first branch (tinydl's images are channels_last, the branch Keras takes by default);
#   - keras.optimizers.Adadelta(1.0 * hvd.size()) -> Adam(0.001 * hvd.size()) (tinydl has no Adadelta);
#   - the data is cut to 512 training and 256 test images, so that the test takes seconds.
import tinydl as keras
from tinydl.datasets import mnist_sample as mnist
from tinydl.models import Sequential
from tinydl.layers import Dense, Dropout, Flatten
from tinydl.layers import Conv2D, MaxPooling2D
import math
import tinydl.distributed as hvd

# Horovod: initialize Horovod.
hvd.init()

batch_size = 128
num_classes = 10

# Horovod: adjust number of epochs based on number of GPUs.
epochs = int(math.ceil(12.0 / hvd.size()))

# Input image dimensions
img_rows, img_cols = 28, 28

# The data, shuffled and split between train and test sets
(x_train, y_train), (x_test, y_test) = mnist.load_data()
(x_train, y_train), (x_test, y_test) = (x_train[:512], y_train[:512]), (x_test[:256], y_test[:256])

x_train = x_train.reshape(x_train.shape[0], img_rows, img_cols, 1)
x_test = x_test.reshape(x_test.shape[0], img_rows, img_cols, 1)
input_shape = (img_rows, img_cols, 1)

x_train = x_train.astype('float32')
x_test = x_test.astype('float32')
x_train /= 255
x_test /= 255
print('x_train shape:', x_train.shape)
print(x_train.shape[0], 'train samples')
print(x_test.shape[0], 'test samples')

# Convert class vectors to binary class matrices
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = Sequential()
model.add(Conv2D(32, kernel_size=(3, 3),
                 activation='relu',
                 input_shape=input_shape))
model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))
model.add(Flatten())
model.add(Dense(128, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(num_classes, activation='softmax'))

# Horovod: adjust learning rate based on number of GPUs.
opt = keras.optimizers.Adam(0.001 * hvd.size())

# Horovod: add Horovod Distributed Optimizer.
opt = hvd.DistributedOptimizer(opt)

model.compile(loss=keras.losses.categorical_crossentropy,
              optimizer=opt,
              metrics=['accuracy'])

callbacks = [
    # Horovod: broadcast initial variable states from rank 0 to all other processes.
    # This is necessary to ensure consistent initialization of all workers when
    # training is started with random weights or restored from a checkpoint.
    hvd.callbacks.BroadcastGlobalVariablesCallback(0),
]

# Horovod: save checkpoints only on worker 0 to prevent other workers from corrupting them.
if hvd.rank() == 0:
    callbacks.append(keras.callbacks.ModelCheckpoint('./checkpoint-{epoch}.h5'))

model.fit(x_train, y_train,
          batch_size=batch_size,
          callbacks=callbacks,
          epochs=epochs,
          verbose=1 if hvd.rank() == 0 else 0,
          validation_data=(x_test, y_test))
score = model.evaluate(x_test, y_test, verbose=0)
print('Test loss:', score[0])
print('Test accuracy:', score[1])
