from deepface import DeepFace
result = DeepFace.verify(img1_path='img1.jpg', img2_path='img2.jpg', model_name='ArcFace')
print(result['verified'])
print(DeepFace.analyze(img_path='img1.jpg', actions=['age', 'gender', 'emotion']))
