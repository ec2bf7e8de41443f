DROP TABLE pet_diary_entries;
