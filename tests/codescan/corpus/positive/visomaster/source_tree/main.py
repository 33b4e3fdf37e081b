from app.ui import main_ui
from PySide6 import QtWidgets
import sys

if __name__ == '__main__':
    app = QtWidgets.QApplication(sys.argv)
    window = main_ui.MainWindow()
    window.show()
    app.exec()
