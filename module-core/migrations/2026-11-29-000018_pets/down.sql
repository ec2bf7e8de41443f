DROP TABLE pet_weights;
DROP TABLE pets;
